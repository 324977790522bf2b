-- Reserved (allocated, not yet picked) units per warehouse on the latest snapshot.
select warehouse_id, sum(reserved_qty) as reserved_units, sum(on_hand_qty) as on_hand_units,
       {{ northstar_utils.safe_divide('sum(reserved_qty)', 'sum(on_hand_qty)') }} as reserved_share
from {{ ref('int_inventory__latest_positions') }}
group by warehouse_id
