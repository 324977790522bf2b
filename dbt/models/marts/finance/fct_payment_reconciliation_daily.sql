-- Daily cash reconciliation: payments captured vs order totals, per currency. Variance should be zero.
select paid_date, currency_code, count(*) as payments, cast(sum(paid_amount) as decimal(18, 2)) as paid_amount,
       cast(sum(order_total) as decimal(18, 2)) as order_total, cast(sum(variance) as decimal(18, 2)) as variance
from {{ ref('int_payments__settlement') }}
where payment_status = 'captured'
group by paid_date, currency_code
