-- Daily campaign spend with the campaign's objective, budget and flight dates.
select
    s.spend_date,
    s.campaign_id,
    c.campaign_name,
    s.channel,
    c.objective,
    c.starts_on,
    c.ends_on,
    c.budget,
    s.spend,
    s.impressions,
    s.clicks,
    s.conversions
from {{ ref('stg_s3__marketing_spend') }} as s
left join {{ ref('stg_s3__marketing_campaigns') }} as c on s.campaign_id = c.campaign_id
