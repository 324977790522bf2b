-- The current catalogue line per supplier SKU (latest valid_from wins).
select supplier_id, supplier_sku, product_id, pack_size, unit_cost, currency_code, valid_from
from (
    select *, row_number() over (partition by supplier_id, supplier_sku order by valid_from desc) as pick
    from {{ ref('stg_s3__supplier_catalog') }}
) as ranked
where pick = 1
