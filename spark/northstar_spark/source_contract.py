"""GENERATED from pipelines/catalog/sources.yaml by northstar_spark_codegen.source_contract -- do not edit.

Regenerate: ./pants run spark/northstar_spark_codegen/source_contract.py -- --sources pipelines/catalog/sources.yaml \
    --output spark/northstar_spark/source_contract.py
"""

from typing import Any

SOURCES: dict[str, dict[str, dict[str, Any]]] = {
    'retail_oltp': {
        'customers': {
            'kind': 'postgres', 'pk': ['customer_id'], 'tags': ['pii'],
            'columns': [
                ('customer_id', 'bigint'), ('email_hash', 'varchar'), ('first_name', 'varchar'),
                ('last_name', 'varchar'), ('country_code', 'varchar'), ('loyalty_tier', 'varchar'),
                ('signup_at', 'timestamp'), ('updated_at', 'timestamp'),
            ],
        },
        'customer_addresses': {
            'kind': 'postgres', 'pk': ['address_id'], 'tags': ['pii'],
            'columns': [
                ('address_id', 'bigint'), ('customer_id', 'bigint'), ('city', 'varchar'),
                ('postal_code', 'varchar'), ('country_code', 'varchar'), ('is_default', 'boolean'),
                ('updated_at', 'timestamp'),
            ],
        },
        'stores': {
            'kind': 'postgres', 'pk': ['store_id'], 'tags': [],
            'columns': [
                ('store_id', 'int'), ('store_code', 'varchar'), ('store_name', 'varchar'), ('region', 'varchar'),
                ('country_code', 'varchar'), ('opened_on', 'date'), ('floor_area_m2', 'int'),
                ('updated_at', 'timestamp'),
            ],
        },
        'employees': {
            'kind': 'postgres', 'pk': ['employee_id'], 'tags': ['pii'],
            'columns': [
                ('employee_id', 'bigint'), ('store_id', 'int'), ('job_role', 'varchar'), ('hired_on', 'date'),
                ('terminated_on', 'date'), ('updated_at', 'timestamp'),
            ],
        },
        'products': {
            'kind': 'postgres', 'pk': ['product_id'], 'tags': [],
            'columns': [
                ('product_id', 'bigint'), ('sku', 'varchar'), ('product_name', 'varchar'), ('category_id', 'int'),
                ('brand_id', 'int'), ('supplier_id', 'int'), ('unit_cost', 'decimal(12,2)'),
                ('list_price', 'decimal(12,2)'), ('is_active', 'boolean'), ('updated_at', 'timestamp'),
            ],
        },
        'product_categories': {
            'kind': 'postgres', 'pk': ['category_id'], 'tags': [],
            'columns': [
                ('category_id', 'int'), ('parent_category_id', 'int'), ('category_name', 'varchar'),
                ('department', 'varchar'),
            ],
        },
        'brands': {
            'kind': 'postgres', 'pk': ['brand_id'], 'tags': [],
            'columns': [
                ('brand_id', 'int'), ('brand_name', 'varchar'), ('is_private_label', 'boolean'),
            ],
        },
        'suppliers': {
            'kind': 'postgres', 'pk': ['supplier_id'], 'tags': [],
            'columns': [
                ('supplier_id', 'int'), ('supplier_name', 'varchar'), ('country_code', 'varchar'),
                ('payment_terms_days', 'int'), ('updated_at', 'timestamp'),
            ],
        },
        'orders': {
            'kind': 'postgres', 'pk': ['order_id'], 'tags': ['finance'],
            'columns': [
                ('order_id', 'bigint'), ('customer_id', 'bigint'), ('store_id', 'int'), ('channel', 'varchar'),
                ('order_status', 'varchar'), ('currency_code', 'varchar'), ('ordered_at', 'timestamp'),
                ('updated_at', 'timestamp'),
            ],
        },
        'order_lines': {
            'kind': 'postgres', 'pk': ['order_line_id'], 'tags': ['finance'],
            'columns': [
                ('order_line_id', 'bigint'), ('order_id', 'bigint'), ('product_id', 'bigint'), ('quantity', 'int'),
                ('unit_price', 'decimal(12,2)'), ('discount_amount', 'decimal(12,2)'),
                ('tax_amount', 'decimal(12,2)'),
            ],
        },
        'payments': {
            'kind': 'postgres', 'pk': ['payment_id'], 'tags': ['finance'],
            'columns': [
                ('payment_id', 'bigint'), ('order_id', 'bigint'), ('payment_method', 'varchar'),
                ('amount', 'decimal(12,2)'), ('currency_code', 'varchar'), ('payment_status', 'varchar'),
                ('paid_at', 'timestamp'),
            ],
        },
        'refunds': {
            'kind': 'postgres', 'pk': ['refund_id'], 'tags': ['finance'],
            'columns': [
                ('refund_id', 'bigint'), ('payment_id', 'bigint'), ('order_id', 'bigint'),
                ('amount', 'decimal(12,2)'), ('reason_code', 'varchar'), ('refunded_at', 'timestamp'),
            ],
        },
        'returns': {
            'kind': 'postgres', 'pk': ['return_id'], 'tags': [],
            'columns': [
                ('return_id', 'bigint'), ('order_id', 'bigint'), ('order_line_id', 'bigint'), ('quantity', 'int'),
                ('reason_code', 'varchar'), ('returned_at', 'timestamp'),
            ],
        },
        'shipments': {
            'kind': 'postgres', 'pk': ['shipment_id'], 'tags': [],
            'columns': [
                ('shipment_id', 'bigint'), ('order_id', 'bigint'), ('warehouse_id', 'int'), ('carrier', 'varchar'),
                ('shipping_cost', 'decimal(12,2)'), ('shipped_at', 'timestamp'), ('delivered_at', 'timestamp'),
            ],
        },
        'warehouses': {
            'kind': 'postgres', 'pk': ['warehouse_id'], 'tags': [],
            'columns': [
                ('warehouse_id', 'int'), ('warehouse_code', 'varchar'), ('region', 'varchar'),
                ('country_code', 'varchar'),
            ],
        },
        'inventory_snapshots': {
            'kind': 'postgres', 'pk': ['snapshot_date', 'warehouse_id', 'product_id'], 'tags': [],
            'columns': [
                ('snapshot_date', 'date'), ('warehouse_id', 'int'), ('product_id', 'bigint'),
                ('on_hand_qty', 'int'), ('reserved_qty', 'int'),
            ],
        },
        'purchase_orders': {
            'kind': 'postgres', 'pk': ['po_id'], 'tags': [],
            'columns': [
                ('po_id', 'bigint'), ('supplier_id', 'int'), ('warehouse_id', 'int'), ('po_status', 'varchar'),
                ('currency_code', 'varchar'), ('ordered_at', 'timestamp'), ('expected_at', 'timestamp'),
            ],
        },
        'purchase_order_lines': {
            'kind': 'postgres', 'pk': ['po_line_id'], 'tags': [],
            'columns': [
                ('po_line_id', 'bigint'), ('po_id', 'bigint'), ('product_id', 'bigint'), ('quantity', 'int'),
                ('unit_cost', 'decimal(12,2)'),
            ],
        },
        'promotions': {
            'kind': 'postgres', 'pk': ['promotion_id'], 'tags': [],
            'columns': [
                ('promotion_id', 'int'), ('promotion_name', 'varchar'), ('discount_type', 'varchar'),
                ('discount_value', 'decimal(12,2)'), ('starts_at', 'timestamp'), ('ends_at', 'timestamp'),
            ],
        },
        'gift_cards': {
            'kind': 'postgres', 'pk': ['gift_card_id'], 'tags': ['finance'],
            'columns': [
                ('gift_card_id', 'bigint'), ('customer_id', 'bigint'), ('issued_amount', 'decimal(12,2)'),
                ('balance', 'decimal(12,2)'), ('issued_at', 'timestamp'), ('expires_at', 'timestamp'),
            ],
        },
        'loyalty_transactions': {
            'kind': 'postgres', 'pk': ['loyalty_txn_id'], 'tags': [],
            'columns': [
                ('loyalty_txn_id', 'bigint'), ('customer_id', 'bigint'), ('order_id', 'bigint'), ('points', 'int'),
                ('txn_type', 'varchar'), ('created_at', 'timestamp'),
            ],
        },
    },
    'finance_erp': {
        'gl_accounts': {
            'kind': 'postgres', 'pk': ['account_id'], 'tags': ['finance'],
            'columns': [
                ('account_id', 'int'), ('account_code', 'varchar'), ('account_name', 'varchar'),
                ('account_type', 'varchar'), ('parent_account_id', 'int'),
            ],
        },
        'gl_journal_entries': {
            'kind': 'postgres', 'pk': ['journal_entry_id'], 'tags': ['finance'],
            'columns': [
                ('journal_entry_id', 'bigint'), ('entry_date', 'date'), ('fiscal_period', 'varchar'),
                ('entry_source', 'varchar'), ('entry_status', 'varchar'), ('posted_at', 'timestamp'),
            ],
        },
        'gl_journal_lines': {
            'kind': 'postgres', 'pk': ['journal_line_id'], 'tags': ['finance'],
            'columns': [
                ('journal_line_id', 'bigint'), ('journal_entry_id', 'bigint'), ('account_id', 'int'),
                ('cost_center_id', 'int'), ('debit', 'decimal(14,2)'), ('credit', 'decimal(14,2)'),
                ('currency_code', 'varchar'),
            ],
        },
        'supplier_invoices': {
            'kind': 'postgres', 'pk': ['invoice_id'], 'tags': ['finance'],
            'columns': [
                ('invoice_id', 'bigint'), ('supplier_id', 'int'), ('po_id', 'bigint'), ('invoice_date', 'date'),
                ('due_date', 'date'), ('amount', 'decimal(14,2)'), ('currency_code', 'varchar'),
                ('invoice_status', 'varchar'),
            ],
        },
        'cost_centers': {
            'kind': 'postgres', 'pk': ['cost_center_id'], 'tags': ['finance'],
            'columns': [
                ('cost_center_id', 'int'), ('cost_center_code', 'varchar'), ('cost_center_name', 'varchar'),
                ('store_id', 'int'),
            ],
        },
    },
    'kafka': {
        'order_events': {
            'kind': 'kafka', 'pk': ['event_id'], 'tags': ['finance'], 'topic': 'orders.order_events.v1',
            'columns': [
                ('event_id', 'varchar'), ('order_id', 'bigint'), ('event_type', 'varchar'),
                ('order_status', 'varchar'), ('store_id', 'int'), ('channel', 'varchar'),
                ('total_amount', 'decimal(12,2)'), ('currency_code', 'varchar'), ('event_at', 'timestamp'),
            ],
        },
        'payment_events': {
            'kind': 'kafka', 'pk': ['event_id'], 'tags': ['finance'], 'topic': 'payments.payment_events.v1',
            'columns': [
                ('event_id', 'varchar'), ('payment_id', 'bigint'), ('order_id', 'bigint'),
                ('event_type', 'varchar'), ('payment_method', 'varchar'), ('amount', 'decimal(12,2)'),
                ('currency_code', 'varchar'), ('event_at', 'timestamp'),
            ],
        },
        'pos_transactions': {
            'kind': 'kafka', 'pk': ['transaction_id'], 'tags': ['finance'], 'topic': 'pos.transactions.v1',
            'columns': [
                ('transaction_id', 'varchar'), ('store_id', 'int'), ('register_id', 'int'),
                ('employee_id', 'bigint'), ('product_id', 'bigint'), ('quantity', 'int'),
                ('unit_price', 'decimal(12,2)'), ('payment_method', 'varchar'), ('transacted_at', 'timestamp'),
            ],
        },
        'inventory_movements': {
            'kind': 'kafka', 'pk': ['movement_id'], 'tags': [], 'topic': 'inventory.movements.v1',
            'columns': [
                ('movement_id', 'varchar'), ('warehouse_id', 'int'), ('product_id', 'bigint'),
                ('movement_type', 'varchar'), ('quantity', 'int'), ('reference_id', 'varchar'),
                ('moved_at', 'timestamp'),
            ],
        },
        'clickstream': {
            'kind': 'kafka', 'pk': ['event_id'], 'tags': ['pii'], 'topic': 'web.clickstream.v1',
            'columns': [
                ('event_id', 'varchar'), ('session_id', 'varchar'), ('customer_id', 'bigint'),
                ('page_type', 'varchar'), ('product_id', 'bigint'), ('event_type', 'varchar'),
                ('user_agent_family', 'varchar'), ('event_at', 'timestamp'),
            ],
        },
    },
    's3': {
        'supplier_catalog': {
            'kind': 's3', 'pk': ['supplier_id', 'supplier_sku'], 'tags': [], 'prefix': 'suppliers/catalog',
            'format': 'csv',
            'columns': [
                ('supplier_id', 'int'), ('supplier_sku', 'varchar'), ('product_id', 'bigint'), ('pack_size', 'int'),
                ('unit_cost', 'decimal(12,2)'), ('currency_code', 'varchar'), ('valid_from', 'date'),
            ],
        },
        'advance_shipping_notices': {
            'kind': 's3', 'pk': ['asn_id'], 'tags': [], 'prefix': 'suppliers/asn', 'format': 'json',
            'columns': [
                ('asn_id', 'varchar'), ('supplier_id', 'int'), ('po_id', 'bigint'), ('warehouse_id', 'int'),
                ('product_id', 'bigint'), ('quantity', 'int'), ('expected_at', 'timestamp'),
            ],
        },
        'marketing_campaigns': {
            'kind': 's3', 'pk': ['campaign_id'], 'tags': [], 'prefix': 'marketing/campaigns', 'format': 'csv',
            'columns': [
                ('campaign_id', 'varchar'), ('campaign_name', 'varchar'), ('channel', 'varchar'),
                ('objective', 'varchar'), ('starts_on', 'date'), ('ends_on', 'date'), ('budget', 'decimal(12,2)'),
            ],
        },
        'marketing_spend': {
            'kind': 's3', 'pk': ['spend_date', 'campaign_id'], 'tags': [], 'prefix': 'marketing/spend',
            'format': 'csv',
            'columns': [
                ('spend_date', 'date'), ('campaign_id', 'varchar'), ('channel', 'varchar'),
                ('spend', 'decimal(12,2)'), ('impressions', 'bigint'), ('clicks', 'bigint'), ('conversions', 'int'),
            ],
        },
        'exchange_rates': {
            'kind': 's3', 'pk': ['rate_date', 'currency_code'], 'tags': ['finance'], 'prefix': 'finance/fx',
            'format': 'csv',
            'columns': [
                ('rate_date', 'date'), ('currency_code', 'varchar'), ('rate_to_usd', 'decimal(18,8)'),
            ],
        },
        'store_footfall': {
            'kind': 's3', 'pk': ['store_id', 'hour_start'], 'tags': [], 'prefix': 'stores/footfall',
            'format': 'csv',
            'columns': [
                ('store_id', 'int'), ('hour_start', 'timestamp'), ('visitors', 'int'),
            ],
        },
    },
}
