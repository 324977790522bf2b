-- Recognized revenue per month (USD): the revenue line finance closes on.
select cast(date_trunc('month', recognized_date) as date) as month_start, count(*) as orders,
       cast(sum(recognized_revenue_usd) as decimal(18, 2)) as recognized_revenue_usd
from {{ ref('fct_revenue_recognition') }}
where recognition_status = 'recognized'
group by cast(date_trunc('month', recognized_date) as date)
