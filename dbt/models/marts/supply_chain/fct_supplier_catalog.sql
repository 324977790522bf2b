-- Current supplier catalogue with our list price and the cost difference to the catalogue.
select c.supplier_id, c.supplier_sku, c.product_id, c.pack_size, c.unit_cost as catalog_unit_cost, p.unit_cost as our_unit_cost,
       cast(c.unit_cost - p.unit_cost as decimal(18, 2)) as cost_difference
from {{ ref('int_suppliers__catalog_current') }} as c
left join {{ ref('stg_retail_oltp__products') }} as p on c.product_id = p.product_id
