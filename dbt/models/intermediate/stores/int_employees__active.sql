-- Employees still employed at the warehouse's as-of date.
select e.employee_id, e.store_id, e.job_role, e.hired_on
from {{ ref('stg_retail_oltp__employees') }} as e
cross join {{ ref('int_calendar__as_of') }} as a
where e.terminated_on is null or e.terminated_on > a.as_of_date
