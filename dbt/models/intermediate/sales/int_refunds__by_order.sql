-- Refunds rolled up per order.
select
    order_id,
    count(*) as refund_count,
    cast(sum(amount) as decimal(18, 2)) as refunded_amount,
    max(refunded_at) as last_refunded_at
from {{ ref('stg_retail_oltp__refunds') }}
group by order_id
