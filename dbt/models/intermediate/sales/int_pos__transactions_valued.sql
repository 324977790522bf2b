-- Point-of-sale lines from the POS stream, valued at the till price.
select
    transaction_id,
    store_id,
    register_id,
    employee_id,
    product_id,
    quantity,
    unit_price,
    cast(quantity * unit_price as decimal(18, 2)) as line_amount,
    payment_method,
    transacted_at,
    cast(transacted_at as date) as transaction_date,
    extract(hour from transacted_at) as transaction_hour
from {{ ref('stg_kafka__pos_transactions') }}
