-- Cash received per day and payment method (captured payments, USD at the order's rate).
select s.paid_date, s.payment_method, count(*) as payments,
       cast(sum(s.paid_amount * o.rate_to_usd) as decimal(18, 2)) as received_usd
from {{ ref('int_payments__settlement') }} as s
inner join {{ ref('int_orders__enriched') }} as o on s.order_id = o.order_id
where s.payment_status = 'captured'
group by s.paid_date, s.payment_method
