-- Supplier invoices with supplier terms and ageing against the warehouse's as-of date.
select
    i.invoice_id,
    i.supplier_id,
    s.supplier_name,
    i.po_id,
    i.invoice_date,
    i.due_date,
    i.amount,
    i.currency_code,
    i.invoice_status,
    i.invoice_status <> 'paid' as is_open,
    date_diff('day', i.due_date, a.as_of_date) as days_past_due
from {{ ref('stg_finance_erp__supplier_invoices') }} as i
left join {{ ref('stg_retail_oltp__suppliers') }} as s on i.supplier_id = s.supplier_id
cross join {{ ref('int_calendar__as_of') }} as a
