-- Revenue, margin and return units per department.
select l.department, sum(l.quantity) as units, cast(sum(l.net_amount_usd) as decimal(18, 2)) as net_revenue_usd,
       cast(sum(l.cost_amount_usd) as decimal(18, 2)) as cost_usd, count(distinct l.product_id) as products_sold
from {{ ref('int_order_lines__enriched') }} as l
where l.order_status not in ('cancelled', 'pending')
group by l.department
