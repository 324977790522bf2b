-- Published FX rates per day and currency (USD base), as used by every USD figure in the warehouse.
select rate_date, currency_code, rate_to_usd from {{ ref('int_fx__daily_rates') }}
