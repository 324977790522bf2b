-- Lifetime value per purchasing customer: revenue, orders, tenure and average order value.
select h.customer_id, h.order_count, h.net_revenue_usd, h.first_order_at, h.last_order_at,
       cast(h.net_revenue_usd / h.order_count as decimal(18, 2)) as avg_order_value_usd,
       date_diff('day', c.signup_at, h.last_order_at) as tenure_days
from {{ ref('int_customers__order_history') }} as h
inner join {{ ref('stg_retail_oltp__customers') }} as c on h.customer_id = c.customer_id
