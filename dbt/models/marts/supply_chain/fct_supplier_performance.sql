-- Supplier scorecard: POs, fill rate (received / ordered units) and cancellations.
select supplier_id, count(*) as purchase_orders, sum(units_ordered) as units_ordered, sum(units_received) as units_received,
       sum(case when po_status = 'cancelled' then 1 else 0 end) as cancelled_orders,
       {{ northstar_utils.safe_divide('sum(units_received)', "sum(case when po_status = 'received' then units_ordered else 0 end)") }} as fill_rate
from {{ ref('fct_purchase_orders') }}
group by supplier_id
