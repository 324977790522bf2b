-- Units actually received per purchase order, from the inventory stream's po_receipt movements ("po:<id>").
select
    cast(substr(reference_id, 4) as bigint) as po_id,
    sum(quantity) as units_received,
    min(moved_at) as first_received_at
from {{ ref('stg_kafka__inventory_movements') }}
where movement_type = 'po_receipt' and reference_id like 'po:%'
group by cast(substr(reference_id, 4) as bigint)
