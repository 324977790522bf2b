-- One row per web/app session: duration, funnel depth, conversion and device.
select session_id, customer_id, session_started_at, session_ended_at, session_date, duration_seconds, event_count,
       product_views, add_to_carts, converted, user_agent_family, device_channel
from {{ ref('int_clickstream__sessions') }}
