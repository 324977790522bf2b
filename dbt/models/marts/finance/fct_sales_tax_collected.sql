-- Sales tax collected per fiscal month and currency (revenue orders): what the tax filings must show.
select cast(date_trunc('month', order_date) as date) as month_start, currency_code, store_country_code,
       cast(sum(tax_amount) as decimal(18, 2)) as tax_collected, cast(sum(net_amount) as decimal(18, 2)) as taxable_amount
from {{ ref('int_orders__enriched') }}
where is_revenue_order
group by cast(date_trunc('month', order_date) as date), currency_code, store_country_code
