-- Purchase order lines with product and line cost.
select l.po_line_id, l.po_id, l.product_id, l.quantity, l.unit_cost, cast(l.quantity * l.unit_cost as decimal(18, 2)) as line_cost
from {{ ref('stg_retail_oltp__purchase_order_lines') }} as l
