-- Visitors per store and day (hourly counter feed rolled up).
select store_id, cast(hour_start as date) as visit_date, sum(visitors) as visitors, count(*) as hours_counted
from {{ ref('stg_s3__store_footfall') }}
group by store_id, cast(hour_start as date)
