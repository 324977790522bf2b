-- Promised lead time per supplier (ordered -> expected), in days.
select supplier_id, cast(avg(date_diff('day', ordered_at, expected_at)) as double) as avg_promised_lead_days,
       min(date_diff('day', ordered_at, expected_at)) as min_promised_lead_days,
       max(date_diff('day', ordered_at, expected_at)) as max_promised_lead_days
from {{ ref('stg_retail_oltp__purchase_orders') }}
group by supplier_id
