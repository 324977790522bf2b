-- Returns per reason code.
select reason_code, count(*) as returns, sum(quantity) as units_returned,
       cast(sum(returned_net_amount) as decimal(18, 2)) as returned_net_amount
from {{ ref('int_returns__valued') }}
group by reason_code
