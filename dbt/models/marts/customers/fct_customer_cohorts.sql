-- Signup-month cohorts: customers, purchasers and revenue.
select cast(date_trunc('month', c.signup_at) as date) as cohort_month, count(*) as customers,
       sum(case when h.customer_id is not null then 1 else 0 end) as purchasers,
       cast(coalesce(sum(h.net_revenue_usd), 0) as decimal(18, 2)) as net_revenue_usd
from {{ ref('stg_retail_oltp__customers') }} as c
left join {{ ref('int_customers__order_history') }} as h on c.customer_id = h.customer_id
group by cast(date_trunc('month', c.signup_at) as date)
