-- Web/app sessions from the clickstream: duration, funnel steps reached and device family.
select
    session_id,
    max(customer_id) as customer_id,
    min(event_at) as session_started_at,
    max(event_at) as session_ended_at,
    cast(min(event_at) as date) as session_date,
    date_diff('second', min(event_at), max(event_at)) as duration_seconds,
    count(*) as event_count,
    sum(case when event_type = 'product_view' then 1 else 0 end) as product_views,
    sum(case when event_type = 'add_to_cart' then 1 else 0 end) as add_to_carts,
    max(case when event_type = 'purchase' then 1 else 0 end) = 1 as converted,
    min(user_agent_family) as user_agent_family,
    case when min(user_agent_family) like 'Northstar %' then 'app' else 'web' end as device_channel
from {{ ref('stg_kafka__clickstream') }}
group by session_id
