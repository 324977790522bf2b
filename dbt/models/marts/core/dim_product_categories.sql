-- Category dimension with its department and parent category name.
select c.category_id, c.category_name, c.department, c.parent_category_id, p.category_name as parent_category_name,
       c.parent_category_id is null as is_department
from {{ ref('stg_retail_oltp__product_categories') }} as c
left join {{ ref('stg_retail_oltp__product_categories') }} as p on c.parent_category_id = p.category_id
