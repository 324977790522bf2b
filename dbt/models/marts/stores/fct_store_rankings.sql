-- Stores ranked by revenue within their region.
select s.store_id, s.region, cast(coalesce(sum(d.net_revenue_usd), 0) as decimal(18, 2)) as net_revenue_usd,
       rank() over (partition by s.region order by coalesce(sum(d.net_revenue_usd), 0) desc) as region_rank
from {{ ref('stg_retail_oltp__stores') }} as s
left join {{ ref('int_stores__sales_daily') }} as d on s.store_id = d.store_id
where s.store_id <> 1
group by s.store_id, s.region
