-- Returned units valued at the line's net unit price (what the customer is owed before tax).
select
    r.return_id,
    r.order_id,
    r.order_line_id,
    l.product_id,
    r.quantity,
    r.reason_code,
    r.returned_at,
    cast(r.returned_at as date) as return_date,
    cast(l.net_amount / nullif(l.quantity, 0) * r.quantity as decimal(18, 2)) as returned_net_amount
from {{ ref('stg_retail_oltp__returns') }} as r
left join {{ ref('int_order_lines__amounts') }} as l on r.order_line_id = l.order_line_id
