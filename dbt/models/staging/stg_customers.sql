-- One row per customer; renames and types the raw seed so marts never touch raw_* directly.
select
    id as customer_id,
    first_name,
    last_name,
    cast(signup_date as date) as signup_date
from {{ ref('raw_customers') }}
