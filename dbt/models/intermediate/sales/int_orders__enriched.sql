-- Orders with their totals, store, customer country and USD amounts (rate of the order date).
select
    o.order_id,
    o.customer_id,
    o.store_id,
    s.region as store_region,
    s.country_code as store_country_code,
    c.country_code as customer_country_code,
    o.channel,
    o.order_status,
    o.currency_code,
    o.ordered_at,
    cast(o.ordered_at as date) as order_date,
    coalesce(t.line_count, 0) as line_count,
    coalesce(t.units, 0) as units,
    coalesce(t.gross_amount, 0) as gross_amount,
    coalesce(t.discount_amount, 0) as discount_amount,
    coalesce(t.net_amount, 0) as net_amount,
    coalesce(t.tax_amount, 0) as tax_amount,
    coalesce(t.total_amount, 0) as total_amount,
    coalesce(t.cost_amount, 0) as cost_amount,
    coalesce(fx.rate_to_usd, lfx.rate_to_usd, 1) as rate_to_usd,
    {{ northstar_utils.usd('coalesce(t.net_amount, 0)', 'coalesce(fx.rate_to_usd, lfx.rate_to_usd)') }} as net_amount_usd,
    {{ northstar_utils.usd('coalesce(t.total_amount, 0)', 'coalesce(fx.rate_to_usd, lfx.rate_to_usd)') }} as total_amount_usd,
    o.order_status not in ('cancelled', 'pending') as is_revenue_order
from {{ ref('stg_retail_oltp__orders') }} as o
left join {{ ref('int_orders__totals') }} as t on o.order_id = t.order_id
left join {{ ref('stg_retail_oltp__stores') }} as s on o.store_id = s.store_id
left join {{ ref('stg_retail_oltp__customers') }} as c on o.customer_id = c.customer_id
left join {{ ref('int_fx__daily_rates') }} as fx
    on o.currency_code = fx.currency_code and cast(o.ordered_at as date) = fx.rate_date
left join {{ ref('int_fx__latest_rates') }} as lfx on o.currency_code = lfx.currency_code
