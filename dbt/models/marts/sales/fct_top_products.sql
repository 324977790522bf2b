-- Products ranked by net revenue (revenue orders), with margin.
select p.product_id, p.product_name, p.department, s.units_sold, s.net_revenue_usd, s.cost_usd,
       cast(s.net_revenue_usd - s.cost_usd as decimal(18, 2)) as gross_margin_usd,
       rank() over (order by s.net_revenue_usd desc) as revenue_rank
from {{ ref('int_products__sales') }} as s
inner join {{ ref('int_products__enriched') }} as p on s.product_id = p.product_id
