-- One row per order line with product attributes, net amount and cost (local currency and USD).
select order_line_id, order_id, product_id, order_date, channel, store_id, order_status, currency_code, quantity,
       unit_price, gross_amount, discount_amount, net_amount, tax_amount, cost_amount, net_amount_usd, cost_amount_usd,
       category_id, department, brand_id, is_private_label
from {{ ref('int_order_lines__enriched') }}
