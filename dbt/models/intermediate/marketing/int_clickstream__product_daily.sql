-- Product views and add-to-carts per product and day.
select
    cast(event_at as date) as event_date,
    product_id,
    sum(case when event_type = 'product_view' then 1 else 0 end) as product_views,
    sum(case when event_type = 'add_to_cart' then 1 else 0 end) as add_to_carts,
    count(distinct session_id) as sessions
from {{ ref('stg_kafka__clickstream') }}
where product_id is not null
group by cast(event_at as date), product_id
