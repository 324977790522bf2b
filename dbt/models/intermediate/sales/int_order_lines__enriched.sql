-- Order lines with their order's date, channel, store and currency, and the product's category and brand.
select
    l.*,
    o.order_date,
    o.channel,
    o.store_id,
    o.order_status,
    o.currency_code,
    o.rate_to_usd,
    cast(l.net_amount * o.rate_to_usd as decimal(18, 2)) as net_amount_usd,
    cast(l.cost_amount * o.rate_to_usd as decimal(18, 2)) as cost_amount_usd,
    p.category_id,
    p.department,
    p.brand_id,
    p.is_private_label
from {{ ref('int_order_lines__amounts') }} as l
inner join {{ ref('int_orders__enriched') }} as o on l.order_id = o.order_id
left join {{ ref('int_products__enriched') }} as p on l.product_id = p.product_id
