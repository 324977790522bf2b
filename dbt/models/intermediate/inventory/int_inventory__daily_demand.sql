-- Average units picked per day for each warehouse and product over the observed days (0 when never picked).
with days as (
    select count(distinct movement_date) as observed_days from {{ ref('int_inventory__movements_daily') }}
)

select
    m.warehouse_id,
    m.product_id,
    sum(m.units_picked) as units_picked,
    cast(sum(m.units_picked) as double) / greatest(max(d.observed_days), 1) as avg_daily_units
from {{ ref('int_inventory__movements_daily') }} as m
cross join days as d
group by m.warehouse_id, m.product_id
