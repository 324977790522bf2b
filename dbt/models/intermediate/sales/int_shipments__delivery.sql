-- Shipments with their timing: hours from order to dispatch, days in transit, delivered or not.
select
    s.shipment_id,
    s.order_id,
    s.warehouse_id,
    s.carrier,
    s.shipping_cost,
    o.ordered_at,
    s.shipped_at,
    s.delivered_at,
    cast(s.shipped_at as date) as ship_date,
    date_diff('hour', o.ordered_at, s.shipped_at) as hours_to_ship,
    date_diff('day', s.shipped_at, s.delivered_at) as transit_days,
    s.delivered_at is not null as is_delivered
from {{ ref('stg_retail_oltp__shipments') }} as s
inner join {{ ref('stg_retail_oltp__orders') }} as o on s.order_id = o.order_id
