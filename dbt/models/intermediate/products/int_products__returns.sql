-- Returned units and value per product.
select
    product_id,
    count(*) as return_count,
    sum(quantity) as units_returned,
    cast(sum(returned_net_amount) as decimal(18, 2)) as returned_net_amount
from {{ ref('int_returns__valued') }}
group by product_id
