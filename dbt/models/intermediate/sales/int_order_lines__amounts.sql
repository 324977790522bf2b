-- One row per order line: gross, discount, net, tax and cost at the product's catalogue cost.
select
    l.order_line_id,
    l.order_id,
    l.product_id,
    l.quantity,
    l.unit_price,
    cast(l.quantity * l.unit_price as decimal(18, 2)) as gross_amount,
    l.discount_amount,
    cast(l.quantity * l.unit_price - l.discount_amount as decimal(18, 2)) as net_amount,
    l.tax_amount,
    cast(l.quantity * coalesce(p.unit_cost, 0) as decimal(18, 2)) as cost_amount
from {{ ref('stg_retail_oltp__order_lines') }} as l
left join {{ ref('stg_retail_oltp__products') }} as p on l.product_id = p.product_id
