-- In-store revenue orders per store and day, in USD.
select
    store_id,
    order_date,
    count(*) as orders,
    sum(units) as units,
    cast(sum(net_amount_usd) as decimal(18, 2)) as net_revenue_usd
from {{ ref('int_orders__enriched') }}
where channel = 'store' and is_revenue_order
group by store_id, order_date
