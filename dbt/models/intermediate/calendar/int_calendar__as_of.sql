-- The warehouse's "today": the newest order timestamp in bronze, never the wall clock, so ageing and recency
-- figures are reproducible for the same data (rebuilds, dev vs prod comparisons).
select
    cast(max(ordered_at) as date) as as_of_date,
    max(ordered_at) as as_of_ts
from {{ ref('stg_retail_oltp__orders') }}
