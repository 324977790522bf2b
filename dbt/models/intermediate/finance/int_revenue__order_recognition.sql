-- Revenue recognition per order (ASC 606, point in time): store sales at the till; shipped orders when delivered;
-- cancelled orders never; orders not yet delivered stay deferred. Amounts are net of discount, excluding tax.
with orders as (
    select * from {{ ref('int_orders__enriched') }}
),

delivery as (
    select order_id, min(delivered_at) as delivered_at
    from {{ ref('stg_retail_oltp__shipments') }}
    group by order_id
)

select
    o.order_id,
    o.order_date,
    o.channel,
    o.currency_code,
    o.order_status,
    o.net_amount,
    o.net_amount_usd,
    case
        when o.order_status in ('cancelled', 'pending') then null
        when o.channel = 'store' then o.ordered_at
        else d.delivered_at
    end as recognized_at,
    case
        when o.order_status in ('cancelled', 'pending') then 'not_recognized'
        when o.channel = 'store' then 'recognized'
        when d.delivered_at is not null then 'recognized'
        else 'deferred'
    end as recognition_status
from orders as o
left join delivery as d on o.order_id = d.order_id
