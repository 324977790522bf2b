-- Control: purchases received per month (PO cost) vs inventory debits posted from accounts payable.
with po as (
    select cast(date_trunc('month', ordered_at) as date) as month_start, sum(order_cost) as received_po_cost
    from {{ ref('int_purchase_orders__totals') }}
    where po_status = 'received'
    group by cast(date_trunc('month', ordered_at) as date)
),

gl as (
    select cast(date_trunc('month', entry_date) as date) as month_start, sum(debit) as inventory_debits
    from {{ ref('int_gl__journal_lines_enriched') }}
    where entry_source = 'accounts_payable' and account_code = '1300'
    group by cast(date_trunc('month', entry_date) as date)
)

select po.month_start, cast(po.received_po_cost as decimal(18, 2)) as received_po_cost,
       cast(coalesce(gl.inventory_debits, 0) as decimal(18, 2)) as gl_inventory_debits,
       cast(po.received_po_cost - coalesce(gl.inventory_debits, 0) as decimal(18, 2)) as difference
from po
left join gl on po.month_start = gl.month_start
