-- Product dimension: catalogue attributes with category, department, brand and supplier.
select * from {{ ref('int_products__enriched') }}
