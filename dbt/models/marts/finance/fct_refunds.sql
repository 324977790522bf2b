-- One row per refund, in local currency and USD.
select r.refund_id, r.payment_id, r.order_id, r.amount, r.reason_code, r.refunded_at, cast(r.refunded_at as date) as refund_date,
       o.currency_code, cast(r.amount * o.rate_to_usd as decimal(18, 2)) as amount_usd
from {{ ref('stg_retail_oltp__refunds') }} as r
inner join {{ ref('int_orders__enriched') }} as o on r.order_id = o.order_id
