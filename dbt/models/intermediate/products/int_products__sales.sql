-- Sold units, net revenue and cost per product (revenue orders only, USD).
select
    product_id,
    count(distinct order_id) as order_count,
    sum(quantity) as units_sold,
    cast(sum(net_amount_usd) as decimal(18, 2)) as net_revenue_usd,
    cast(sum(cost_amount_usd) as decimal(18, 2)) as cost_usd
from {{ ref('int_order_lines__enriched') }}
where order_status not in ('cancelled', 'pending')
group by product_id
