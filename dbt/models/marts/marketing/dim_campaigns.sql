-- Campaign dimension with flight length and total spend so far.
select c.campaign_id, c.campaign_name, c.channel, c.objective, c.starts_on, c.ends_on, c.budget,
       date_diff('day', c.starts_on, c.ends_on) + 1 as flight_days
from {{ ref('stg_s3__marketing_campaigns') }} as c
