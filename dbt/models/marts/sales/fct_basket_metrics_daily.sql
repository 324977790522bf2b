-- Basket size per day: lines and units per order, average order value.
select order_date, count(*) as orders, cast(avg(line_count) as double) as avg_lines_per_order,
       cast(avg(units) as double) as avg_units_per_order, cast(avg(net_amount_usd) as decimal(18, 2)) as avg_order_value_usd
from {{ ref('int_orders__enriched') }}
where is_revenue_order
group by order_date
