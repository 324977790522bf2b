-- Advance shipping notices against purchase order lines: announced vs ordered units per PO.
with announced as (
    select po_id, sum(quantity) as units_announced, count(*) as asn_count
    from {{ ref('stg_s3__advance_shipping_notices') }}
    group by po_id
)

select
    t.po_id,
    t.supplier_id,
    t.po_status,
    t.units_ordered,
    coalesce(a.units_announced, 0) as units_announced,
    coalesce(a.asn_count, 0) as asn_count
from {{ ref('int_purchase_orders__totals') }} as t
left join announced as a on t.po_id = a.po_id
