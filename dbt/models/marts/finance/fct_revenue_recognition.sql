-- Revenue recognition per order: recognized (store sale at the till, online order on delivery), deferred (shipped,
-- not yet delivered) or not recognized (cancelled, pending). Net of discount, excluding tax.
select order_id, order_date, channel, currency_code, order_status, net_amount, net_amount_usd, recognized_at,
       cast(recognized_at as date) as recognized_date, recognition_status,
       case when recognition_status = 'recognized' then net_amount_usd else 0 end as recognized_revenue_usd,
       case when recognition_status = 'deferred' then net_amount_usd else 0 end as deferred_revenue_usd
from {{ ref('int_revenue__order_recognition') }}
