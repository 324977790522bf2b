-- OLTP orders vs the order event stream: status and amount agree? (catches CDC or streaming gaps)
select o.order_id, o.order_status, e.order_status as stream_status, o.total_amount, e.total_amount as stream_total_amount,
       e.order_id is not null as in_stream,
       (e.order_status is null or o.order_status = e.order_status or e.order_status = 'pending') as status_matches,
       coalesce(o.total_amount = e.total_amount, false) as amount_matches
from {{ ref('int_orders__enriched') }} as o
left join {{ ref('int_order_events__latest') }} as e on o.order_id = e.order_id
