-- POS activity per employee (staff performance and fraud screening).
select employee_id, store_id, count(*) as lines_scanned, cast(sum(line_amount) as decimal(18, 2)) as line_amount,
       sum(case when payment_method = 'cash' then 1 else 0 end) as cash_lines
from {{ ref('int_pos__transactions_valued') }}
group by employee_id, store_id
