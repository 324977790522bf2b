-- Monthly sales per store.
select cast(date_trunc('month', order_date) as date) as month_start, store_id, count(*) as orders,
       cast(sum(net_amount_usd) as decimal(18, 2)) as net_revenue_usd
from {{ ref('int_orders__enriched') }}
where is_revenue_order
group by cast(date_trunc('month', order_date) as date), store_id
