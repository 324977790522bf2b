-- One row per payment with the order total it settles and the variance.
select payment_id, order_id, payment_method, payment_status, currency_code, paid_date, paid_amount, order_total, variance
from {{ ref('int_payments__settlement') }}
