-- Loyalty points earned and redeemed per customer.
select
    customer_id,
    sum(case when txn_type = 'earn' then points else 0 end) as points_earned,
    sum(case when txn_type <> 'earn' then points else 0 end) as points_redeemed,
    sum(case when txn_type = 'earn' then points else -points end) as points_balance,
    max(created_at) as last_activity_at
from {{ ref('stg_retail_oltp__loyalty_transactions') }}
group by customer_id
