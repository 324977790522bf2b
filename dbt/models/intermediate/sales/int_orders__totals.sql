-- Order-level sums of its lines. total_amount = net + tax = what the customer pays.
select
    order_id,
    count(*) as line_count,
    sum(quantity) as units,
    cast(sum(gross_amount) as decimal(18, 2)) as gross_amount,
    cast(sum(discount_amount) as decimal(18, 2)) as discount_amount,
    cast(sum(net_amount) as decimal(18, 2)) as net_amount,
    cast(sum(tax_amount) as decimal(18, 2)) as tax_amount,
    cast(sum(net_amount) + sum(tax_amount) as decimal(18, 2)) as total_amount,
    cast(sum(cost_amount) as decimal(18, 2)) as cost_amount
from {{ ref('int_order_lines__amounts') }}
group by order_id
