-- Daily acquisition cost: marketing spend over customers placing their first order that day.
with first_orders as (
    select cast(first_order_at as date) as acquisition_date, count(*) as new_customers
    from {{ ref('int_customers__order_history') }}
    group by cast(first_order_at as date)
),

spend as (
    select spend_date, sum(spend) as spend from {{ ref('int_marketing__spend_enriched') }} group by spend_date
)

select f.acquisition_date, f.new_customers, cast(coalesce(s.spend, 0) as decimal(18, 2)) as spend,
       {{ northstar_utils.safe_divide('s.spend', 'f.new_customers') }} as cost_per_acquisition
from first_orders as f
left join spend as s on f.acquisition_date = s.spend_date
