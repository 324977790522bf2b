-- Promotion dimension with its running time in days.
select promotion_id, promotion_name, discount_type, discount_value, starts_at, ends_at,
       date_diff('day', starts_at, ends_at) as duration_days
from {{ ref('stg_retail_oltp__promotions') }}
