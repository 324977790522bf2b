-- Sessions and conversions per day and browser/app family.
select session_date, user_agent_family, count(*) as sessions, sum(case when converted then 1 else 0 end) as converted_sessions
from {{ ref('int_clickstream__sessions') }}
group by session_date, user_agent_family
