-- Purchase orders still open, with how late they are against the as-of date.
select p.po_id, p.supplier_id, p.warehouse_id, p.expected_at, p.units_ordered, p.order_cost,
       greatest(date_diff('day', cast(p.expected_at as date), a.as_of_date), 0) as days_late
from {{ ref('fct_purchase_orders') }} as p
cross join {{ ref('int_calendar__as_of') }} as a
where p.po_status = 'open'
