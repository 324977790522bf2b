-- Turnover per product: cost of units sold over average stock value at cost.
with stock as (
    select product_id, avg(on_hand_value) as avg_on_hand_value
    from (select snapshot_date, product_id, sum(on_hand_value) as on_hand_value
          from {{ ref('int_inventory__positions') }} group by snapshot_date, product_id) as daily
    group by product_id
)

select s.product_id, cast(s.avg_on_hand_value as decimal(18, 2)) as avg_on_hand_value, coalesce(p.cost_usd, 0) as cost_of_sales_usd,
       {{ northstar_utils.safe_divide('coalesce(p.cost_usd, 0)', 's.avg_on_hand_value') }} as turnover
from stock as s
left join {{ ref('int_products__sales') }} as p on s.product_id = p.product_id
