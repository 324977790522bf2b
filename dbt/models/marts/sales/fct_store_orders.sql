-- In-store orders with the till's payment method.
select o.order_id, o.store_id, o.customer_id, o.order_status, o.order_date, o.units, o.net_amount_usd, p.payment_method
from {{ ref('int_orders__enriched') }} as o
left join {{ ref('int_payments__by_order') }} as p on o.order_id = p.order_id
where o.channel = 'store'
