-- Daily share of revenue from Northstar's private-label brands.
select order_date,
       cast(sum(case when is_private_label then net_amount_usd else 0 end) as decimal(18, 2)) as private_label_revenue_usd,
       cast(sum(net_amount_usd) as decimal(18, 2)) as net_revenue_usd,
       {{ northstar_utils.safe_divide('sum(case when is_private_label then net_amount_usd else 0 end)', 'sum(net_amount_usd)') }} as private_label_share
from {{ ref('int_order_lines__enriched') }}
where order_status not in ('cancelled', 'pending')
group by order_date
