-- Payments compared with what the order owes (net + tax): the basis of cash reconciliation.
select
    p.payment_id,
    p.order_id,
    p.payment_method,
    p.payment_status,
    p.currency_code,
    cast(p.paid_at as date) as paid_date,
    p.amount as paid_amount,
    o.total_amount as order_total,
    cast(p.amount - o.total_amount as decimal(18, 2)) as variance
from {{ ref('stg_retail_oltp__payments') }} as p
left join {{ ref('int_orders__totals') }} as o on p.order_id = o.order_id
