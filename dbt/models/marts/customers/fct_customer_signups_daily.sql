-- New customer signups per day and country.
select cast(signup_at as date) as signup_date, country_code, count(*) as signups
from {{ ref('stg_retail_oltp__customers') }}
group by cast(signup_at as date), country_code
