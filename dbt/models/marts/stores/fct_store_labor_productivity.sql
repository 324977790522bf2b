-- Revenue and transactions per active employee and store.
with staff as (
    select store_id, count(*) as active_employees from {{ ref('int_employees__active') }} group by store_id
),

sales as (
    select store_id, sum(orders) as orders, sum(net_revenue_usd) as net_revenue_usd
    from {{ ref('int_stores__sales_daily') }} group by store_id
)

select st.store_id, st.active_employees, coalesce(sa.orders, 0) as orders,
       cast(coalesce(sa.net_revenue_usd, 0) as decimal(18, 2)) as net_revenue_usd,
       {{ northstar_utils.safe_divide('coalesce(sa.net_revenue_usd, 0)', 'st.active_employees') }} as revenue_per_employee
from staff as st
left join sales as sa on st.store_id = sa.store_id
