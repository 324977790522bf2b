-- Products currently out of stock somewhere, with how many warehouses lack them.
select product_id, count(*) as warehouses_out_of_stock
from {{ ref('int_inventory__latest_positions') }}
where available_qty <= 0
group by product_id
