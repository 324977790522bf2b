-- Every posted GL journal line with account, cost center and USD amounts.
select journal_line_id, journal_entry_id, entry_date, fiscal_period, entry_source, account_id, account_code, account_type,
       cost_center_id, currency_code, debit, credit, net_amount, debit_usd, credit_usd
from {{ ref('int_gl__journal_lines_enriched') }}
where entry_status = 'posted'
