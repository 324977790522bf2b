-- Sales channel dimension.
select distinct channel, channel = 'store' as is_physical from {{ ref('stg_retail_oltp__orders') }}
