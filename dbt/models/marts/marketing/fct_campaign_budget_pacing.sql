-- Budget pacing: share of budget spent vs share of the flight elapsed at the as-of date.
select c.campaign_id, c.budget, coalesce(p.spend, 0) as spend,
       {{ northstar_utils.safe_divide('coalesce(p.spend, 0)', 'c.budget') }} as budget_used_share,
       least(greatest(date_diff('day', c.starts_on, a.as_of_date) + 1, 0), c.flight_days) as days_elapsed,
       c.flight_days
from {{ ref('dim_campaigns') }} as c
left join {{ ref('fct_campaign_performance') }} as p on c.campaign_id = p.campaign_id
cross join {{ ref('int_calendar__as_of') }} as a
