-- One row per shipment with dispatch and transit timing.
select shipment_id, order_id, warehouse_id, carrier, shipping_cost, ordered_at, shipped_at, delivered_at, ship_date,
       hours_to_ship, transit_days, is_delivered
from {{ ref('int_shipments__delivery') }}
