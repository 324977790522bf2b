-- Products with category, department, parent category, brand and supplier.
select
    p.product_id,
    p.sku,
    p.product_name,
    p.category_id,
    c.category_name,
    c.department,
    c.parent_category_id,
    p.brand_id,
    b.brand_name,
    b.is_private_label,
    p.supplier_id,
    s.supplier_name,
    p.unit_cost,
    p.list_price,
    cast(p.list_price - p.unit_cost as decimal(18, 2)) as unit_margin,
    p.is_active
from {{ ref('stg_retail_oltp__products') }} as p
left join {{ ref('stg_retail_oltp__product_categories') }} as c on p.category_id = c.category_id
left join {{ ref('stg_retail_oltp__brands') }} as b on p.brand_id = b.brand_id
left join {{ ref('stg_retail_oltp__suppliers') }} as s on p.supplier_id = s.supplier_id
