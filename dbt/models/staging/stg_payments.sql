-- One row per payment; raw amounts are integer cents, analytics works in currency units.
select
    id as payment_id,
    order_id,
    payment_method,
    cast(amount / 100.0 as decimal(18, 2)) as amount
from {{ ref('raw_payments') }}
