-- Daily marketing spend and traffic per channel.
select spend_date, channel, cast(sum(spend) as decimal(18, 2)) as spend, sum(impressions) as impressions,
       sum(clicks) as clicks, sum(conversions) as conversions
from {{ ref('int_marketing__spend_enriched') }}
group by spend_date, channel
