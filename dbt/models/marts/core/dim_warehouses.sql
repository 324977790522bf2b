-- Distribution centre dimension.
select warehouse_id, warehouse_code, region, country_code from {{ ref('stg_retail_oltp__warehouses') }}
