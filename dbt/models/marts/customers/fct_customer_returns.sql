-- Return behaviour per customer: returns, refunded value.
select o.customer_id, count(r.return_id) as returns, cast(coalesce(sum(r.returned_net_amount), 0) as decimal(18, 2)) as returned_net_amount
from {{ ref('int_returns__valued') }} as r
inner join {{ ref('stg_retail_oltp__orders') }} as o on r.order_id = o.order_id
group by o.customer_id
