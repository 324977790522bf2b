-- Customers and revenue per RFM segment.
select rfm_segment, count(*) as customers, cast(sum(net_revenue_usd) as decimal(18, 2)) as net_revenue_usd
from {{ ref('fct_customer_rfm') }}
group by rfm_segment
