-- Daily conversion funnel: sessions -> product views -> add to cart -> purchase.
select session_date, count(*) as sessions, sum(case when product_views > 0 then 1 else 0 end) as sessions_with_product_view,
       sum(case when add_to_carts > 0 then 1 else 0 end) as sessions_with_add_to_cart,
       sum(case when converted then 1 else 0 end) as converted_sessions,
       {{ northstar_utils.safe_divide('sum(case when converted then 1 else 0 end)', 'count(*)') }} as conversion_rate
from {{ ref('int_clickstream__sessions') }}
group by session_date
