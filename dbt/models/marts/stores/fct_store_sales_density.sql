-- Revenue per square metre of selling floor (physical stores only).
select s.store_id, s.floor_area_m2, cast(coalesce(sum(d.net_revenue_usd), 0) as decimal(18, 2)) as net_revenue_usd,
       {{ northstar_utils.safe_divide('coalesce(sum(d.net_revenue_usd), 0)', 's.floor_area_m2') }} as revenue_per_m2
from {{ ref('stg_retail_oltp__stores') }} as s
left join {{ ref('int_stores__sales_daily') }} as d on s.store_id = d.store_id
where s.floor_area_m2 > 0
group by s.store_id, s.floor_area_m2
