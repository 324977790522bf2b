-- Inventory value at cost per snapshot day (the balance-sheet inventory figure before adjustments).
select snapshot_date, sum(on_hand_qty) as on_hand_units, cast(sum(on_hand_value) as decimal(18, 2)) as on_hand_value
from {{ ref('int_inventory__positions') }}
group by snapshot_date
