-- Campaign totals: spend vs budget, CTR, cost per click and per conversion.
select campaign_id, campaign_name, channel, objective, max(budget) as budget, cast(sum(spend) as decimal(18, 2)) as spend,
       sum(impressions) as impressions, sum(clicks) as clicks, sum(conversions) as conversions,
       {{ northstar_utils.safe_divide('sum(clicks)', 'sum(impressions)') }} as click_through_rate,
       {{ northstar_utils.safe_divide('sum(spend)', 'sum(clicks)') }} as cost_per_click,
       {{ northstar_utils.safe_divide('sum(spend)', 'sum(conversions)') }} as cost_per_conversion
from {{ ref('int_marketing__spend_enriched') }}
group by campaign_id, campaign_name, channel, objective
