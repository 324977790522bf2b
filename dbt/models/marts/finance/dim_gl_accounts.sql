-- Chart of accounts with the parent account and the side a balance normally sits on.
select a.account_id, a.account_code, a.account_name, a.account_type, a.parent_account_id, p.account_name as parent_account_name,
       case when a.account_type in ('asset', 'expense') then 'debit' else 'credit' end as normal_balance
from {{ ref('stg_finance_erp__gl_accounts') }} as a
left join {{ ref('stg_finance_erp__gl_accounts') }} as p on a.parent_account_id = p.account_id
