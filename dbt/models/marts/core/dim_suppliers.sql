-- Supplier dimension with payment terms and the number of products they supply.
select s.supplier_id, s.supplier_name, s.country_code, s.payment_terms_days, count(p.product_id) as product_count
from {{ ref('stg_retail_oltp__suppliers') }} as s
left join {{ ref('stg_retail_oltp__products') }} as p on s.supplier_id = p.supplier_id
group by s.supplier_id, s.supplier_name, s.country_code, s.payment_terms_days
