-- Daily spend, impressions, clicks and conversions per campaign.
select spend_date, campaign_id, channel, spend, impressions, clicks, conversions,
       {{ northstar_utils.safe_divide('clicks', 'impressions') }} as click_through_rate
from {{ ref('int_marketing__spend_enriched') }}
