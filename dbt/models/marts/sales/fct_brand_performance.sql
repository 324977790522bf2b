-- Revenue, units and margin per brand.
select l.brand_id, b.brand_name, b.is_private_label, sum(l.quantity) as units,
       cast(sum(l.net_amount_usd) as decimal(18, 2)) as net_revenue_usd, cast(sum(l.cost_amount_usd) as decimal(18, 2)) as cost_usd
from {{ ref('int_order_lines__enriched') }} as l
inner join {{ ref('stg_retail_oltp__brands') }} as b on l.brand_id = b.brand_id
where l.order_status not in ('cancelled', 'pending')
group by l.brand_id, b.brand_name, b.is_private_label
