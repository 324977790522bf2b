-- Daily revenue orders from first-time vs returning customers.
select o.order_date,
       sum(case when o.ordered_at = h.first_order_at then 1 else 0 end) as new_customer_orders,
       sum(case when o.ordered_at > h.first_order_at then 1 else 0 end) as returning_customer_orders
from {{ ref('int_orders__enriched') }} as o
inner join {{ ref('int_customers__order_history') }} as h on o.customer_id = h.customer_id
where o.is_revenue_order
group by o.order_date
