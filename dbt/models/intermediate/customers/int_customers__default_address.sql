-- The customer's default address (exactly one per customer).
select customer_id, address_id, city, postal_code, country_code
from (
    select *, row_number() over (partition by customer_id order by is_default desc, address_id) as pick
    from {{ ref('stg_retail_oltp__customer_addresses') }}
) as ranked
where pick = 1
