-- One row per order with its total paid amount. Incremental by order_id: order ids only grow, so each run
-- only has to look at orders newer than the newest one already loaded.
-- The max() in the {{ this }} filter is aliased on purpose: SQLMesh's `run` fails with a DuckDB Binder Error
-- on an unaliased `select max(order_id) from {{ this }}`.
{{
    config(
        materialized='incremental',
        unique_key='order_id',
        incremental_strategy='delete+insert'
    )
}}

select
    o.order_id,
    o.customer_id,
    o.order_date,
    o.status,
    cast(coalesce(sum(p.amount), 0) as decimal(18, 2)) as amount
from {{ ref('stg_orders') }} as o
left join {{ ref('stg_payments') }} as p on o.order_id = p.order_id
{% if is_incremental() %}
where o.order_id > (select coalesce(max(order_id), 0) as max_order_id from {{ this }})
{% endif %}
group by o.order_id, o.customer_id, o.order_date, o.status
