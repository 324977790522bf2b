-- OLTP payments vs the payment event stream: captured amounts must agree.
select p.payment_id, p.order_id, p.paid_amount, e.captured_amount as stream_captured_amount,
       p.payment_status = 'authorized' or p.paid_amount = e.captured_amount as amounts_match
from {{ ref('int_payments__settlement') }} as p
left join {{ ref('int_payment_events__by_payment') }} as e on p.payment_id = e.payment_id
