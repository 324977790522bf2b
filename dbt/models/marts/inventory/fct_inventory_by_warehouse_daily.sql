-- Daily units and value on hand per warehouse.
select snapshot_date, warehouse_id, sum(on_hand_qty) as on_hand_units, sum(available_qty) as available_units,
       cast(sum(on_hand_value) as decimal(18, 2)) as on_hand_value
from {{ ref('int_inventory__positions') }}
group by snapshot_date, warehouse_id
