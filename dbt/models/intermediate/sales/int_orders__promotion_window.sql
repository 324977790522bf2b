-- Discounted orders placed while a promotion ran: the promotion they are attributed to (earliest start wins).
select order_id, promotion_id
from (
    select
        o.order_id,
        p.promotion_id,
        row_number() over (partition by o.order_id order by p.starts_at, p.promotion_id) as pick
    from {{ ref('int_orders__enriched') }} as o
    inner join {{ ref('stg_retail_oltp__promotions') }} as p
        on o.ordered_at >= p.starts_at and o.ordered_at < p.ends_at
    where o.discount_amount > 0
) as candidates
where pick = 1
