-- Days of supply per warehouse and product: available units over average daily picks (null when never picked).
select i.warehouse_id, i.product_id, i.available_qty, coalesce(d.avg_daily_units, 0) as avg_daily_units,
       {{ northstar_utils.safe_divide('i.available_qty', 'd.avg_daily_units') }} as days_of_supply
from {{ ref('int_inventory__latest_positions') }} as i
left join {{ ref('int_inventory__daily_demand') }} as d on i.warehouse_id = d.warehouse_id and i.product_id = d.product_id
