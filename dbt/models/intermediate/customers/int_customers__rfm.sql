-- Recency / frequency / monetary quintile scores (5 = best) against the warehouse's as-of date.
with history as (
    select h.*, date_diff('day', cast(h.last_order_at as date), a.as_of_date) as recency_days
    from {{ ref('int_customers__order_history') }} as h
    cross join {{ ref('int_calendar__as_of') }} as a
)

select
    customer_id,
    recency_days,
    order_count,
    net_revenue_usd,
    6 - ntile(5) over (order by recency_days) as recency_score,
    ntile(5) over (order by order_count) as frequency_score,
    ntile(5) over (order by net_revenue_usd) as monetary_score
from history
