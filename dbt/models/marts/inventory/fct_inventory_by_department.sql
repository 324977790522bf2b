-- Current units and value on hand per department.
select p.department, sum(i.on_hand_qty) as on_hand_units, cast(sum(i.on_hand_value) as decimal(18, 2)) as on_hand_value
from {{ ref('int_inventory__latest_positions') }} as i
inner join {{ ref('int_products__enriched') }} as p on i.product_id = p.product_id
group by p.department
