-- Payment stream folded per payment: when it was authorized and captured, and what was refunded.
select
    payment_id,
    min(order_id) as order_id,
    min(case when event_type = 'payment_authorized' then event_at end) as authorized_at,
    min(case when event_type = 'payment_captured' then event_at end) as captured_at,
    cast(sum(case when event_type = 'payment_captured' then amount else 0 end) as decimal(18, 2)) as captured_amount,
    cast(sum(case when event_type = 'payment_refunded' then amount else 0 end) as decimal(18, 2)) as refunded_amount
from {{ ref('stg_kafka__payment_events') }}
group by payment_id
