-- Refunds per day (USD).
select refund_date, count(*) as refunds, cast(sum(amount_usd) as decimal(18, 2)) as refunded_usd
from {{ ref('fct_refunds') }}
group by refund_date
