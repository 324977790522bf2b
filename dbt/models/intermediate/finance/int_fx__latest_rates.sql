-- Latest USD rate per currency: the fallback for dates outside the FX feed.
select currency_code, max(latest_rate_to_usd) as rate_to_usd
from {{ ref('int_fx__daily_rates') }}
group by currency_code
