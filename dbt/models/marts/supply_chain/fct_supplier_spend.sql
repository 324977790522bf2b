-- Spend per supplier from purchase orders (non-cancelled) and invoices.
with po as (
    select supplier_id, sum(order_cost) as po_cost from {{ ref('int_purchase_orders__totals') }}
    where po_status <> 'cancelled' group by supplier_id
),

inv as (
    select supplier_id, sum(amount) as invoiced from {{ ref('stg_finance_erp__supplier_invoices') }} group by supplier_id
)

select s.supplier_id, cast(coalesce(po.po_cost, 0) as decimal(18, 2)) as po_cost, cast(coalesce(inv.invoiced, 0) as decimal(18, 2)) as invoiced
from {{ ref('stg_retail_oltp__suppliers') }} as s
left join po on s.supplier_id = po.supplier_id
left join inv on s.supplier_id = inv.supplier_id
