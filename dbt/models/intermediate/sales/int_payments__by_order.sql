-- Payments rolled up per order: what was captured, how, and how many payment attempts.
select
    order_id,
    count(*) as payment_count,
    cast(sum(case when payment_status = 'captured' then amount else 0 end) as decimal(18, 2)) as captured_amount,
    cast(sum(case when payment_status = 'authorized' then amount else 0 end) as decimal(18, 2)) as authorized_amount,
    min(payment_method) as payment_method,
    min(paid_at) as first_paid_at
from {{ ref('stg_retail_oltp__payments') }}
group by order_id
