-- Deferred revenue balance by order date: shipped online orders awaiting delivery (USD).
select order_date, count(*) as orders, cast(sum(deferred_revenue_usd) as decimal(18, 2)) as deferred_revenue_usd
from {{ ref('fct_revenue_recognition') }}
where recognition_status = 'deferred'
group by order_date
