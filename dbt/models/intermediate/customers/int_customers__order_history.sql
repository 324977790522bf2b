-- Per customer: first/last order, order count and net revenue in USD (revenue orders only).
select
    customer_id,
    min(ordered_at) as first_order_at,
    max(ordered_at) as last_order_at,
    count(*) as order_count,
    cast(sum(net_amount_usd) as decimal(18, 2)) as net_revenue_usd,
    count(distinct channel) as channels_used
from {{ ref('int_orders__enriched') }}
where is_revenue_order
group by customer_id
