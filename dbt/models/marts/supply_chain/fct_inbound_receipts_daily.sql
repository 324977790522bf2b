-- Units received into each warehouse per day.
select movement_date, warehouse_id, sum(units_received) as units_received
from {{ ref('int_inventory__movements_daily') }}
where units_received > 0
group by movement_date, warehouse_id
