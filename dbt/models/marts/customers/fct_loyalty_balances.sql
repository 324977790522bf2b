-- Loyalty points balance per member.
select b.customer_id, c.loyalty_tier, b.points_earned, b.points_redeemed, b.points_balance, b.last_activity_at
from {{ ref('int_loyalty__balances') }} as b
inner join {{ ref('stg_retail_oltp__customers') }} as c on b.customer_id = c.customer_id
