-- One row per purchase order with units ordered, announced (ASN) and received.
select t.po_id, t.supplier_id, t.warehouse_id, t.po_status, t.currency_code, t.ordered_at, t.expected_at, t.line_count,
       t.units_ordered, t.order_cost, a.units_announced, coalesce(r.units_received, 0) as units_received, r.first_received_at
from {{ ref('int_purchase_orders__totals') }} as t
left join {{ ref('int_purchase_orders__asn_coverage') }} as a on t.po_id = a.po_id
left join {{ ref('int_purchase_orders__receipts') }} as r on t.po_id = r.po_id
