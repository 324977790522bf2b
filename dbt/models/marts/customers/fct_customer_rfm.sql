-- RFM scores and the segment marketing targets.
select customer_id, recency_days, order_count, net_revenue_usd, recency_score, frequency_score, monetary_score,
       case
           when recency_score >= 4 and frequency_score >= 4 then 'champion'
           when recency_score >= 4 then 'recent'
           when frequency_score >= 4 then 'loyal'
           when recency_score <= 2 and monetary_score >= 4 then 'at_risk_high_value'
           else 'needs_attention'
       end as rfm_segment
from {{ ref('int_customers__rfm') }}
