-- One row per return with its valued amount and the order's channel.
select r.return_id, r.order_id, r.order_line_id, r.product_id, r.quantity, r.reason_code, r.returned_at, r.return_date,
       r.returned_net_amount, o.channel, o.store_id
from {{ ref('int_returns__valued') }} as r
left join {{ ref('stg_retail_oltp__orders') }} as o on r.order_id = o.order_id
