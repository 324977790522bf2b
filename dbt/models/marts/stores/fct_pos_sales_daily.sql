-- POS stream sales per store and day (the till's view; compare with fct_sales_daily_by_store).
select store_id, transaction_date, count(distinct transaction_id) as lines, sum(quantity) as units,
       cast(sum(line_amount) as decimal(18, 2)) as gross_amount
from {{ ref('int_pos__transactions_valued') }}
group by store_id, transaction_date
