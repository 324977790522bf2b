-- Return rate per product: units returned over units sold.
select s.product_id, s.units_sold, coalesce(r.units_returned, 0) as units_returned,
       {{ northstar_utils.safe_divide('coalesce(r.units_returned, 0)', 's.units_sold') }} as return_rate
from {{ ref('int_products__sales') }} as s
left join {{ ref('int_products__returns') }} as r on s.product_id = r.product_id
