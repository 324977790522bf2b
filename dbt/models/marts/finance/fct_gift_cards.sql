-- One row per gift card with redemption and expiry.
select gift_card_id, customer_id, issued_amount, balance, redeemed_amount, issued_at, expires_at, is_expired
from {{ ref('int_gift_cards__balances') }}
