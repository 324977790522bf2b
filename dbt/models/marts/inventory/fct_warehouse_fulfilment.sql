-- Shipments dispatched per warehouse: volume, speed and cost.
select warehouse_id, count(*) as shipments, cast(avg(hours_to_ship) as double) as avg_hours_to_ship,
       cast(sum(shipping_cost) as decimal(18, 2)) as shipping_cost
from {{ ref('int_shipments__delivery') }}
group by warehouse_id
