-- Per product: views, add-to-carts and units sold, i.e. how well the product page converts.
select v.product_id, sum(v.product_views) as product_views, sum(v.add_to_carts) as add_to_carts,
       coalesce(max(s.units_sold), 0) as units_sold,
       {{ northstar_utils.safe_divide('sum(v.add_to_carts)', 'sum(v.product_views)') }} as add_to_cart_rate
from {{ ref('int_clickstream__product_daily') }} as v
left join {{ ref('int_products__sales') }} as s on v.product_id = s.product_id
group by v.product_id
