-- Point-of-sale lines from the POS stream, with the store's region.
select t.transaction_id, t.store_id, s.region, t.register_id, t.employee_id, t.product_id, t.quantity, t.unit_price,
       t.line_amount, t.payment_method, t.transacted_at, t.transaction_date
from {{ ref('int_pos__transactions_valued') }} as t
left join {{ ref('stg_retail_oltp__stores') }} as s on t.store_id = s.store_id
