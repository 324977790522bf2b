-- Currencies the business trades in, with their latest USD rate.
select currency_code, rate_to_usd as latest_rate_to_usd from {{ ref('int_fx__latest_rates') }}
