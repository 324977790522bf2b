-- Gross margin per department (USD).
select department, cast(sum(net_amount_usd) as decimal(18, 2)) as net_revenue_usd, cast(sum(cost_amount_usd) as decimal(18, 2)) as cogs_usd,
       {{ northstar_utils.safe_divide('sum(net_amount_usd) - sum(cost_amount_usd)', 'sum(net_amount_usd)') }} as gross_margin_rate
from {{ ref('int_order_lines__enriched') }}
where order_status not in ('cancelled', 'pending')
group by department
