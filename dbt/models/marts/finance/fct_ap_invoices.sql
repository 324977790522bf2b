-- Supplier invoices (accounts payable) with status and days past due at the as-of date.
select invoice_id, supplier_id, supplier_name, po_id, invoice_date, due_date, amount, currency_code, invoice_status,
       is_open, days_past_due
from {{ ref('int_ap__invoice_status') }}
