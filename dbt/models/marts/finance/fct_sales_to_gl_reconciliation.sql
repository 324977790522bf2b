-- Control: sales cash per day, store and currency from the order system vs the GL's sales entries (cash leg, 1100).
with oltp as (
    select o.order_date, o.store_id, o.currency_code, sum(p.captured_amount + p.authorized_amount) as paid
    from {{ ref('int_orders__enriched') }} as o
    inner join {{ ref('int_payments__by_order') }} as p on o.order_id = p.order_id
    where o.order_status <> 'pending'
    group by o.order_date, o.store_id, o.currency_code
),

gl as (
    select l.entry_date, c.store_id, l.currency_code, sum(l.debit) as cash_debits
    from {{ ref('int_gl__journal_lines_enriched') }} as l
    inner join {{ ref('stg_finance_erp__cost_centers') }} as c on l.cost_center_id = c.cost_center_id
    where l.entry_source = 'sales' and l.account_code = '1100'
    group by l.entry_date, c.store_id, l.currency_code
)

select o.order_date, o.store_id, o.currency_code, cast(o.paid as decimal(18, 2)) as oltp_paid,
       cast(coalesce(g.cash_debits, 0) as decimal(18, 2)) as gl_cash_debits,
       cast(o.paid - coalesce(g.cash_debits, 0) as decimal(18, 2)) as difference
from oltp as o
left join gl as g on o.order_date = g.entry_date and o.store_id = g.store_id and o.currency_code = g.currency_code
