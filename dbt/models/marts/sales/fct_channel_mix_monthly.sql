-- Share of monthly revenue per channel.
with monthly as (
    select cast(date_trunc('month', order_date) as date) as month_start, channel, sum(net_amount_usd) as net_revenue_usd
    from {{ ref('int_orders__enriched') }}
    where is_revenue_order
    group by cast(date_trunc('month', order_date) as date), channel
)

select month_start, channel, cast(net_revenue_usd as decimal(18, 2)) as net_revenue_usd,
       cast(net_revenue_usd / sum(net_revenue_usd) over (partition by month_start) as double) as revenue_share
from monthly
