-- Discount depth per day: how much revenue was given away.
select order_date, sum(case when discount_amount > 0 then 1 else 0 end) as discounted_orders, count(*) as orders,
       cast(sum(discount_amount * rate_to_usd) as decimal(18, 2)) as discount_usd,
       {{ northstar_utils.safe_divide('sum(discount_amount)', 'sum(gross_amount)') }} as discount_rate
from {{ ref('int_orders__enriched') }}
where is_revenue_order
group by order_date
