-- Trial balance per fiscal period and account, converted to USD at each entry date's rate.
select fiscal_period, account_id, account_code, account_type, debit_usd as total_debit_usd, credit_usd as total_credit_usd,
       net_debit_usd
from {{ ref('int_gl__period_account_balances') }}
