-- Income statement per fiscal period (USD): revenue, returns, COGS, operating expenses and operating result.
select
    fiscal_period,
    cast(sum(case when account_code = '4010' then -net_debit_usd else 0 end) as decimal(18, 2)) as product_revenue_usd,
    cast(sum(case when account_code = '4100' then net_debit_usd else 0 end) as decimal(18, 2)) as sales_returns_usd,
    cast(sum(case when account_type = 'revenue' then -net_debit_usd else 0 end) as decimal(18, 2)) as net_revenue_usd,
    cast(sum(case when account_code = '5000' then net_debit_usd else 0 end) as decimal(18, 2)) as cogs_usd,
    cast(sum(case when account_type = 'expense' and account_code <> '5000' then net_debit_usd else 0 end) as decimal(18, 2)) as opex_usd,
    cast(sum(case when account_type in ('revenue', 'expense') then -net_debit_usd else 0 end) as decimal(18, 2)) as operating_result_usd
from {{ ref('int_gl__period_account_balances') }}
group by fiscal_period
