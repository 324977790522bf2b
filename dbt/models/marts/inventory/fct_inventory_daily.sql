-- Daily stock position per warehouse and product (units and value at cost).
select snapshot_date, warehouse_id, product_id, on_hand_qty, reserved_qty, available_qty, on_hand_value
from {{ ref('int_inventory__positions') }}
