-- Orders per status and channel: the order funnel's end states.
select order_status, channel, count(*) as orders, cast(sum(total_amount_usd) as decimal(18, 2)) as total_amount_usd
from {{ ref('int_orders__enriched') }}
group by order_status, channel
