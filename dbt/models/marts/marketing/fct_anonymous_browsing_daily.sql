-- Sessions of visitors who are not signed in: the audience retargeting campaigns aim at.
select session_date, count(*) as anonymous_sessions, sum(product_views) as product_views
from {{ ref('int_clickstream__sessions') }}
where customer_id is null
group by session_date
