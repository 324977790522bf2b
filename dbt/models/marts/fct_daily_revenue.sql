-- Daily recognized revenue: only orders that are shipped or completed count (placed/returned do not).
{{ config(tags=['finance']) }}

with recognized_orders as (
    select order_id, order_date
    from {{ ref('stg_orders') }}
    where status in ('shipped', 'completed')
),

order_payments as (
    select order_id, sum(amount) as amount
    from {{ ref('stg_payments') }}
    group by order_id
)

select
    o.order_date,
    count(*) as order_count,
    cast(coalesce(sum(p.amount), 0) as decimal(18, 2)) as revenue
from recognized_orders as o
left join order_payments as p on o.order_id = p.order_id
group by o.order_date
