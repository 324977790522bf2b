-- Product-warehouse pairs with nothing available to sell, per day.
select snapshot_date, warehouse_id, count(*) as stocked_out_products
from {{ ref('int_inventory__positions') }}
where available_qty <= 0
group by snapshot_date, warehouse_id
