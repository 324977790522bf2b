-- Recognized revenue per recognition day and channel (USD).
select recognized_date, channel, count(*) as orders, cast(sum(recognized_revenue_usd) as decimal(18, 2)) as recognized_revenue_usd
from {{ ref('fct_revenue_recognition') }}
where recognition_status = 'recognized'
group by recognized_date, channel
