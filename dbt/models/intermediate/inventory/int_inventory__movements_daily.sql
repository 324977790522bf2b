-- Stock movements from the inventory stream per day, warehouse and product: picks (negative) and receipts.
select
    cast(moved_at as date) as movement_date,
    warehouse_id,
    product_id,
    sum(case when movement_type = 'sale_pick' then -quantity else 0 end) as units_picked,
    sum(case when movement_type = 'po_receipt' then quantity else 0 end) as units_received,
    sum(quantity) as net_units,
    count(*) as movement_count
from {{ ref('stg_kafka__inventory_movements') }}
group by cast(moved_at as date), warehouse_id, product_id
