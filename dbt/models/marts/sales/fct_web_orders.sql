-- Online (web and app) orders with shipment timing.
select o.order_id, o.customer_id, o.channel, o.order_status, o.order_date, o.net_amount_usd, s.carrier, s.transit_days,
       s.is_delivered
from {{ ref('int_orders__enriched') }} as o
left join {{ ref('int_shipments__delivery') }} as s on o.order_id = s.order_id
where o.channel in ('web', 'app')
