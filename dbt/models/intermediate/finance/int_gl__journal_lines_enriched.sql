-- Every GL journal line with its entry header, account, cost center and USD amounts (rate of the entry date).
select
    l.journal_line_id,
    l.journal_entry_id,
    e.entry_date,
    e.fiscal_period,
    e.entry_source,
    e.entry_status,
    l.account_id,
    a.account_code,
    a.account_name,
    a.account_type,
    l.cost_center_id,
    cc.cost_center_code,
    cc.store_id,
    l.currency_code,
    l.debit,
    l.credit,
    cast(l.debit - l.credit as decimal(18, 2)) as net_amount,
    {{ northstar_utils.usd('l.debit', 'coalesce(fx.rate_to_usd, lfx.rate_to_usd)') }} as debit_usd,
    {{ northstar_utils.usd('l.credit', 'coalesce(fx.rate_to_usd, lfx.rate_to_usd)') }} as credit_usd
from {{ ref('stg_finance_erp__gl_journal_lines') }} as l
inner join {{ ref('stg_finance_erp__gl_journal_entries') }} as e on l.journal_entry_id = e.journal_entry_id
inner join {{ ref('stg_finance_erp__gl_accounts') }} as a on l.account_id = a.account_id
left join {{ ref('stg_finance_erp__cost_centers') }} as cc on l.cost_center_id = cc.cost_center_id
left join {{ ref('int_fx__daily_rates') }} as fx on l.currency_code = fx.currency_code and e.entry_date = fx.rate_date
left join {{ ref('int_fx__latest_rates') }} as lfx on l.currency_code = lfx.currency_code
