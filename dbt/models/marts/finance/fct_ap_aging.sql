-- Accounts payable aging: open (unpaid) invoice amounts per supplier in the standard buckets, at the as-of date.
select
    supplier_id,
    count(*) as open_invoices,
    cast(sum(case when days_past_due <= 0 then amount else 0 end) as decimal(18, 2)) as current_amount,
    cast(sum(case when days_past_due between 1 and 30 then amount else 0 end) as decimal(18, 2)) as past_due_1_30,
    cast(sum(case when days_past_due between 31 and 60 then amount else 0 end) as decimal(18, 2)) as past_due_31_60,
    cast(sum(case when days_past_due between 61 and 90 then amount else 0 end) as decimal(18, 2)) as past_due_61_90,
    cast(sum(case when days_past_due > 90 then amount else 0 end) as decimal(18, 2)) as past_due_over_90,
    cast(sum(amount) as decimal(18, 2)) as total_open_amount
from {{ ref('int_ap__invoice_status') }}
where is_open
group by supplier_id
