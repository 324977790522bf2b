-- Daily stock position per warehouse and product, with available units and value at cost.
select
    i.snapshot_date,
    i.warehouse_id,
    i.product_id,
    i.on_hand_qty,
    i.reserved_qty,
    i.on_hand_qty - i.reserved_qty as available_qty,
    p.unit_cost,
    cast(i.on_hand_qty * coalesce(p.unit_cost, 0) as decimal(18, 2)) as on_hand_value
from {{ ref('stg_retail_oltp__inventory_snapshots') }} as i
left join {{ ref('stg_retail_oltp__products') }} as p on i.product_id = p.product_id
