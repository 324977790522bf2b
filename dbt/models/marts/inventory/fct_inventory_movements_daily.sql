-- Stock movements per day and warehouse: picks and receipts from the inventory stream.
select movement_date, warehouse_id, sum(units_picked) as units_picked, sum(units_received) as units_received,
       sum(net_units) as net_units, sum(movement_count) as movements
from {{ ref('int_inventory__movements_daily') }}
group by movement_date, warehouse_id
