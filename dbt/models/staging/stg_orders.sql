-- One row per order, with a typed order_date and lower-cased status.
select
    id as order_id,
    customer_id,
    cast(order_date as date) as order_date,
    lower(status) as status
from {{ ref('raw_orders') }}
