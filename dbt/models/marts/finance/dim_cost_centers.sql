-- Cost centers: head office, one per store, and e-commerce.
select cost_center_id, cost_center_code, cost_center_name, store_id from {{ ref('stg_finance_erp__cost_centers') }}
