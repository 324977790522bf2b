-- Positions holding more than 60 days of supply (or stock that never moves): markdown candidates.
select warehouse_id, product_id, available_qty, avg_daily_units, days_of_supply
from {{ ref('fct_days_of_supply') }}
where available_qty > 0 and (days_of_supply is null or days_of_supply > 60)
