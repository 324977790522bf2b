-- Store dimension; store 1 is the e-commerce store (no floor area).
select store_id, store_code, store_name, region, country_code, opened_on, floor_area_m2, store_id = 1 as is_online
from {{ ref('stg_retail_oltp__stores') }}
