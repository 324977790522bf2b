-- Trial balance per fiscal period and account in transaction currency: total debits and credits and the closing
-- balance on the account's normal side. Debits equal credits over all accounts of a period (tested).
with activity as (
    select l.fiscal_period, l.account_id, l.currency_code, sum(l.debit) as debits, sum(l.credit) as credits
    from {{ ref('int_gl__journal_lines_enriched') }} as l
    where l.entry_status = 'posted'
    group by l.fiscal_period, l.account_id, l.currency_code
)

select
    x.fiscal_period,
    x.account_id,
    a.account_code,
    a.account_name,
    a.account_type,
    x.currency_code,
    cast(x.debits as decimal(18, 2)) as total_debit,
    cast(x.credits as decimal(18, 2)) as total_credit,
    cast(case when a.account_type in ('asset', 'expense') then x.debits - x.credits else x.credits - x.debits end
         as decimal(18, 2)) as balance
from activity as x
inner join {{ ref('stg_finance_erp__gl_accounts') }} as a on x.account_id = a.account_id
