-- Delivery performance per carrier: shipments, delivered share, average transit days and cost.
select carrier, count(*) as shipments, sum(case when is_delivered then 1 else 0 end) as delivered,
       cast(avg(transit_days) as double) as avg_transit_days, cast(avg(hours_to_ship) as double) as avg_hours_to_ship,
       cast(sum(shipping_cost) as decimal(18, 2)) as shipping_cost
from {{ ref('int_shipments__delivery') }}
group by carrier
