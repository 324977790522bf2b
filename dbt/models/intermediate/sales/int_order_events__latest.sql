-- The latest event per order from the order stream (event-time order), for OLTP vs stream reconciliation.
select order_id, event_type, order_status, total_amount, currency_code, event_at
from (
    select *, row_number() over (partition by order_id order by event_at desc, event_id desc) as recency
    from {{ ref('stg_kafka__order_events') }}
) as ranked
where recency = 1
