-- The newest snapshot per warehouse and product.
select *
from {{ ref('int_inventory__positions') }}
where snapshot_date = (select max(snapshot_date) as latest_snapshot_date from {{ ref('stg_retail_oltp__inventory_snapshots') }})
