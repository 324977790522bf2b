-- Orders by hour of day and channel: staffing and campaign timing.
select extract(hour from ordered_at) as order_hour, channel, count(*) as orders,
       cast(sum(net_amount_usd) as decimal(18, 2)) as net_revenue_usd
from {{ ref('int_orders__enriched') }}
where is_revenue_order
group by extract(hour from ordered_at), channel
