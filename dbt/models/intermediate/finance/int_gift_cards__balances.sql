-- Gift cards with redeemed amount and expiry status as of the warehouse's as-of date.
select
    g.gift_card_id,
    g.customer_id,
    g.issued_amount,
    g.balance,
    cast(g.issued_amount - g.balance as decimal(18, 2)) as redeemed_amount,
    g.issued_at,
    g.expires_at,
    g.expires_at < a.as_of_ts as is_expired
from {{ ref('stg_retail_oltp__gift_cards') }} as g
cross join {{ ref('int_calendar__as_of') }} as a
