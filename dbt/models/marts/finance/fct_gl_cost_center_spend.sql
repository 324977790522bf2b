-- Operating expenses per fiscal period and cost center (USD).
select fiscal_period, cost_center_id, cost_center_code, cast(sum(debit_usd - credit_usd) as decimal(18, 2)) as expense_usd
from {{ ref('int_gl__journal_lines_enriched') }}
where account_type = 'expense'
group by fiscal_period, cost_center_id, cost_center_code
