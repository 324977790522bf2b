-- Calendar dimension over the days the warehouse holds data for.
select date_day, week_start, month_start, iso_day_of_week, is_weekend
from {{ ref('int_calendar__dates') }}
