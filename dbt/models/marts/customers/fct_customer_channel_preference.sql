-- Each purchasing customer's preferred channel (most orders; ties broken by channel name).
select customer_id, channel as preferred_channel, orders
from (
    select customer_id, channel, count(*) as orders,
           row_number() over (partition by customer_id order by count(*) desc, channel) as pick
    from {{ ref('int_orders__enriched') }}
    where is_revenue_order
    group by customer_id, channel
) as ranked
where pick = 1
