-- Gift-card liability: outstanding balances of unexpired cards (what the company owes card holders), plus breakage
-- (balances of expired cards, recognizable as revenue), as of the warehouse's as-of date.
select
    cast(date_trunc('month', issued_at) as date) as issue_month,
    count(*) as cards_issued,
    cast(sum(issued_amount) as decimal(18, 2)) as issued_amount,
    cast(sum(redeemed_amount) as decimal(18, 2)) as redeemed_amount,
    cast(sum(case when not is_expired then balance else 0 end) as decimal(18, 2)) as outstanding_liability,
    cast(sum(case when is_expired then balance else 0 end) as decimal(18, 2)) as breakage_amount
from {{ ref('int_gift_cards__balances') }}
group by cast(date_trunc('month', issued_at) as date)
