-- Singular test: total mart revenue must equal the payments of recognized orders (no fan-out, no loss).
-- Returns a row (= failure) when the totals disagree.
with mart as (
    select coalesce(sum(revenue), 0) as total from {{ ref('fct_daily_revenue') }}
),

source as (
    select coalesce(sum(p.amount), 0) as total
    from {{ ref('stg_payments') }} as p
    inner join {{ ref('stg_orders') }} as o on p.order_id = o.order_id
    where o.status in ('shipped', 'completed')
)

select mart.total as mart_total, source.total as source_total
from mart cross join source
where mart.total <> source.total
