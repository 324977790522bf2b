-- Brand dimension; private labels are Northstar's own brands.
select brand_id, brand_name, is_private_label from {{ ref('stg_retail_oltp__brands') }}
