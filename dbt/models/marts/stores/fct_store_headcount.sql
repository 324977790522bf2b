-- Active headcount per store and job role.
select store_id, job_role, count(*) as employees
from {{ ref('int_employees__active') }}
group by store_id, job_role
