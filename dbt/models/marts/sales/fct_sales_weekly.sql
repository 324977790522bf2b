-- Weekly sales (ISO weeks starting Monday).
select cast(date_trunc('week', order_date) as date) as week_start, count(*) as orders, sum(units) as units,
       cast(sum(net_amount_usd) as decimal(18, 2)) as net_revenue_usd
from {{ ref('int_orders__enriched') }}
where is_revenue_order
group by cast(date_trunc('week', order_date) as date)
