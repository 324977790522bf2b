-- Monthly sales with gross margin.
select cast(date_trunc('month', order_date) as date) as month_start, count(*) as orders, sum(units) as units,
       cast(sum(net_amount_usd) as decimal(18, 2)) as net_revenue_usd,
       cast(sum(cost_amount * rate_to_usd) as decimal(18, 2)) as cost_usd
from {{ ref('int_orders__enriched') }}
where is_revenue_order
group by cast(date_trunc('month', order_date) as date)
