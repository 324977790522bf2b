-- Daily sales per store region (revenue orders, USD).
select
    order_date, store_region,
    count(*) as orders,
    sum(units) as units,
    cast(sum(net_amount_usd) as decimal(18, 2)) as net_revenue_usd,
    cast(sum(total_amount_usd) as decimal(18, 2)) as gross_receipts_usd,
    cast(sum(net_amount_usd) / count(*) as decimal(18, 2)) as avg_order_value_usd
from {{ ref('int_orders__enriched') }}
where is_revenue_order
group by order_date, store_region
