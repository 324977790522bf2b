-- Purchase orders raised per day and status.
select cast(ordered_at as date) as order_date, po_status, count(*) as purchase_orders, sum(units_ordered) as units_ordered,
       cast(sum(order_cost) as decimal(18, 2)) as order_cost
from {{ ref('int_purchase_orders__totals') }}
group by cast(ordered_at as date), po_status
