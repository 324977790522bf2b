-- Orders, revenue and discount attributed to each promotion.
select p.promotion_id, p.promotion_name, p.discount_type, count(o.order_id) as orders,
       cast(coalesce(sum(o.net_amount_usd), 0) as decimal(18, 2)) as net_revenue_usd,
       cast(coalesce(sum(o.discount_amount * o.rate_to_usd), 0) as decimal(18, 2)) as discount_usd
from {{ ref('stg_retail_oltp__promotions') }} as p
left join {{ ref('int_orders__promotion_window') }} as w on p.promotion_id = w.promotion_id
left join {{ ref('int_orders__enriched') }} as o on w.order_id = o.order_id
group by p.promotion_id, p.promotion_name, p.discount_type
