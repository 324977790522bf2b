-- Store day: visitors, orders, revenue and conversion (orders / visitors).
select f.store_id, f.visit_date, f.visitors, coalesce(s.orders, 0) as orders,
       cast(coalesce(s.net_revenue_usd, 0) as decimal(18, 2)) as net_revenue_usd,
       {{ northstar_utils.safe_divide('coalesce(s.orders, 0)', 'f.visitors') }} as footfall_conversion
from {{ ref('int_stores__footfall_daily') }} as f
left join {{ ref('int_stores__sales_daily') }} as s on f.store_id = s.store_id and f.visit_date = s.order_date
