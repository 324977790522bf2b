-- Posted activity per fiscal period and account, in USD. Normal balance: debit for assets/expenses, credit otherwise.
select
    fiscal_period,
    account_id,
    account_code,
    account_name,
    account_type,
    cast(sum(debit_usd) as decimal(18, 2)) as debit_usd,
    cast(sum(credit_usd) as decimal(18, 2)) as credit_usd,
    cast(sum(debit_usd) - sum(credit_usd) as decimal(18, 2)) as net_debit_usd
from {{ ref('int_gl__journal_lines_enriched') }}
where entry_status = 'posted'
group by fiscal_period, account_id, account_code, account_name, account_type
