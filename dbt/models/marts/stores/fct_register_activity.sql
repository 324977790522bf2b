-- POS activity per store register: lines scanned and value.
select store_id, register_id, count(*) as lines_scanned, sum(quantity) as units,
       cast(sum(line_amount) as decimal(18, 2)) as line_amount
from {{ ref('int_pos__transactions_valued') }}
group by store_id, register_id
