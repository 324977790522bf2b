-- Clickstream volume per day and event type.
select cast(event_at as date) as event_date, event_type, count(*) as events, count(distinct session_id) as sessions
from {{ ref('stg_kafka__clickstream') }}
group by cast(event_at as date), event_type
