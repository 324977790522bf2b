-- One row per customer order with its amounts (local currency and USD), payments and refunds.
select
    o.order_id, o.customer_id, o.store_id, o.channel, o.order_status, o.currency_code, o.ordered_at, o.order_date,
    o.line_count, o.units, o.gross_amount, o.discount_amount, o.net_amount, o.tax_amount, o.total_amount,
    o.net_amount_usd, o.total_amount_usd, o.is_revenue_order,
    coalesce(p.captured_amount, 0) as captured_amount,
    coalesce(r.refunded_amount, 0) as refunded_amount
from {{ ref('int_orders__enriched') }} as o
left join {{ ref('int_payments__by_order') }} as p on o.order_id = p.order_id
left join {{ ref('int_refunds__by_order') }} as r on o.order_id = r.order_id
