-- Customer dimension (pseudonymised: email only as a hash) with default address and lifetime figures.
select c.customer_id, c.email_hash, c.country_code, c.loyalty_tier, c.signup_at, a.city, a.postal_code,
       h.first_order_at, h.last_order_at, coalesce(h.order_count, 0) as order_count,
       coalesce(h.net_revenue_usd, 0) as lifetime_revenue_usd
from {{ ref('stg_retail_oltp__customers') }} as c
left join {{ ref('int_customers__default_address') }} as a on c.customer_id = a.customer_id
left join {{ ref('int_customers__order_history') }} as h on c.customer_id = h.customer_id
