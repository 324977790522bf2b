-- Daily sales per product department (revenue orders, USD).
select order_date, department, sum(quantity) as units, cast(sum(net_amount_usd) as decimal(18, 2)) as net_revenue_usd,
       cast(sum(cost_amount_usd) as decimal(18, 2)) as cost_usd
from {{ ref('int_order_lines__enriched') }}
where order_status not in ('cancelled', 'pending')
group by order_date, department
