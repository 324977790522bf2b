-- Positions with under 7 days of supply: reorder candidates with the product's supplier.
select d.warehouse_id, d.product_id, p.supplier_id, d.available_qty, d.avg_daily_units, d.days_of_supply
from {{ ref('fct_days_of_supply') }} as d
inner join {{ ref('stg_retail_oltp__products') }} as p on d.product_id = p.product_id
where d.days_of_supply is not null and d.days_of_supply < 7
