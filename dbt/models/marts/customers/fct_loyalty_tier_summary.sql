-- Customers, purchasers and revenue per loyalty tier.
select c.loyalty_tier, count(*) as customers, count(h.customer_id) as purchasers,
       cast(coalesce(sum(h.net_revenue_usd), 0) as decimal(18, 2)) as net_revenue_usd
from {{ ref('stg_retail_oltp__customers') }} as c
left join {{ ref('int_customers__order_history') }} as h on c.customer_id = h.customer_id
group by c.loyalty_tier
