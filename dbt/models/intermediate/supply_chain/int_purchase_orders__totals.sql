-- Purchase orders with line count, units and cost.
select
    po.po_id,
    po.supplier_id,
    po.warehouse_id,
    po.po_status,
    po.currency_code,
    po.ordered_at,
    po.expected_at,
    count(l.po_line_id) as line_count,
    coalesce(sum(l.quantity), 0) as units_ordered,
    cast(coalesce(sum(l.quantity * l.unit_cost), 0) as decimal(18, 2)) as order_cost
from {{ ref('stg_retail_oltp__purchase_orders') }} as po
left join {{ ref('stg_retail_oltp__purchase_order_lines') }} as l on po.po_id = l.po_id
group by po.po_id, po.supplier_id, po.warehouse_id, po.po_status, po.currency_code, po.ordered_at, po.expected_at
