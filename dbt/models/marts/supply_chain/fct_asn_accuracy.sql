-- Advance shipping notices vs purchase orders: did the supplier announce what we ordered?
select po_id, supplier_id, po_status, units_ordered, units_announced, asn_count,
       units_announced = units_ordered as announced_in_full
from {{ ref('int_purchase_orders__asn_coverage') }}
where po_status <> 'cancelled'
