-- Cash needed for supplier invoices per due date (open invoices).
select due_date, count(*) as invoices, cast(sum(amount) as decimal(18, 2)) as amount_due
from {{ ref('int_ap__invoice_status') }}
where is_open
group by due_date
