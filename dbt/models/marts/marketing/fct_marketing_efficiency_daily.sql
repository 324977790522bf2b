-- Daily blended marketing efficiency: online revenue per unit of spend (MER) and cost per online order.
with spend as (
    select spend_date, sum(spend) as spend from {{ ref('int_marketing__spend_enriched') }} group by spend_date
),

online as (
    select order_date, count(*) as orders, sum(net_amount_usd) as net_revenue_usd
    from {{ ref('int_orders__enriched') }}
    where channel in ('web', 'app') and is_revenue_order
    group by order_date
)

select s.spend_date, cast(s.spend as decimal(18, 2)) as spend, coalesce(o.orders, 0) as online_orders,
       cast(coalesce(o.net_revenue_usd, 0) as decimal(18, 2)) as online_revenue_usd,
       {{ northstar_utils.safe_divide('o.net_revenue_usd', 's.spend') }} as marketing_efficiency_ratio,
       {{ northstar_utils.safe_divide('s.spend', 'o.orders') }} as cost_per_online_order
from spend as s
left join online as o on s.spend_date = o.order_date
