-- Visitors per store and hour of day (average over days): staffing curves.
select store_id, extract(hour from hour_start) as hour_of_day, cast(avg(visitors) as double) as avg_visitors
from {{ ref('stg_s3__store_footfall') }}
group by store_id, extract(hour from hour_start)
