-- Balance sheet movements per fiscal period (USD) by account type.
select fiscal_period,
       cast(sum(case when account_type = 'asset' then net_debit_usd else 0 end) as decimal(18, 2)) as assets_usd,
       cast(sum(case when account_type = 'liability' then -net_debit_usd else 0 end) as decimal(18, 2)) as liabilities_usd,
       cast(sum(case when account_type = 'equity' then -net_debit_usd else 0 end) as decimal(18, 2)) as equity_usd
from {{ ref('int_gl__period_account_balances') }}
group by fiscal_period
