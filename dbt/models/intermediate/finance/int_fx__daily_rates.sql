-- USD conversion rate per currency and day; USD itself is 1. Days without a published rate (late refunds, invoices
-- after the feed's last day) fall back to the currency's latest rate.
with rates as (
    select rate_date, currency_code, rate_to_usd from {{ ref('stg_s3__exchange_rates') }}
),

latest as (
    select currency_code, rate_to_usd
    from (
        select currency_code, rate_to_usd,
               row_number() over (partition by currency_code order by rate_date desc) as recency
        from rates
    ) as ranked
    where recency = 1
)

select r.rate_date, r.currency_code, r.rate_to_usd, l.rate_to_usd as latest_rate_to_usd
from rates as r
inner join latest as l on r.currency_code = l.currency_code
