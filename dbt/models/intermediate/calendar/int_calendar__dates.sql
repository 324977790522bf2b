-- Every business day the warehouse knows about: the FX feed publishes one rate set per calendar day, so its dates
-- are the calendar spine (portable: no generate_series).
select distinct
    rate_date as date_day,
    cast(date_trunc('week', rate_date) as date) as week_start,
    cast(date_trunc('month', rate_date) as date) as month_start,
    extract(isodow from rate_date) as iso_day_of_week,
    extract(isodow from rate_date) in (6, 7) as is_weekend
from {{ ref('stg_s3__exchange_rates') }}
