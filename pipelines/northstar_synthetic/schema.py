"""The generator's view of pipelines/catalog/sources.yaml: column order and logical type per source table.

Why a copy instead of reading the YAML: the generator is stdlib-only so it imports in every resolve (the Spark resolve
has no YAML parser). ``tests/test_contract.py`` fails the moment this copy and sources.yaml disagree.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TableSpec:
    """One source table: where it lands and its columns in sources.yaml order."""

    system: str  # retail_oltp | finance_erp | kafka | s3
    name: str
    columns: tuple[tuple[str, str], ...]
    location: str = ""  # Kafka topic or S3 prefix
    file_format: str = "csv"  # csv | json (S3 feeds); Kafka topics are always JSON lines

    @property
    def key(self) -> str:
        """The bronze table name (sources.yaml naming contract): ``<system>__<name>``."""
        return f"{self.system}__{self.name}"

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c for c, _ in self.columns)


def _cols(spec: str) -> tuple[tuple[str, str], ...]:
    """``"a:bigint b:decimal(12,2)"`` -> ((a, bigint), (b, decimal(12,2)))."""
    return tuple((part.split(":", 1)[0], part.split(":", 1)[1]) for part in spec.split())


D12 = "decimal(12,2)"
D14 = "decimal(14,2)"

_RETAIL = {
    "customers": "customer_id:bigint email_hash:varchar first_name:varchar last_name:varchar country_code:varchar "
    "loyalty_tier:varchar signup_at:timestamp updated_at:timestamp",
    "customer_addresses": "address_id:bigint customer_id:bigint city:varchar postal_code:varchar country_code:varchar "
    "is_default:boolean updated_at:timestamp",
    "stores": "store_id:int store_code:varchar store_name:varchar region:varchar country_code:varchar opened_on:date "
    "floor_area_m2:int updated_at:timestamp",
    "employees": "employee_id:bigint store_id:int job_role:varchar hired_on:date terminated_on:date updated_at:timestamp",
    "products": f"product_id:bigint sku:varchar product_name:varchar category_id:int brand_id:int supplier_id:int "
    f"unit_cost:{D12} list_price:{D12} is_active:boolean updated_at:timestamp",
    "product_categories": "category_id:int parent_category_id:int category_name:varchar department:varchar",
    "brands": "brand_id:int brand_name:varchar is_private_label:boolean",
    "suppliers": "supplier_id:int supplier_name:varchar country_code:varchar payment_terms_days:int updated_at:timestamp",
    "orders": "order_id:bigint customer_id:bigint store_id:int channel:varchar order_status:varchar currency_code:varchar "
    "ordered_at:timestamp updated_at:timestamp",
    "order_lines": f"order_line_id:bigint order_id:bigint product_id:bigint quantity:int unit_price:{D12} "
    f"discount_amount:{D12} tax_amount:{D12}",
    "payments": f"payment_id:bigint order_id:bigint payment_method:varchar amount:{D12} currency_code:varchar "
    "payment_status:varchar paid_at:timestamp",
    "refunds": f"refund_id:bigint payment_id:bigint order_id:bigint amount:{D12} reason_code:varchar refunded_at:timestamp",
    "returns": "return_id:bigint order_id:bigint order_line_id:bigint quantity:int reason_code:varchar returned_at:timestamp",
    "shipments": f"shipment_id:bigint order_id:bigint warehouse_id:int carrier:varchar shipping_cost:{D12} "
    "shipped_at:timestamp delivered_at:timestamp",
    "warehouses": "warehouse_id:int warehouse_code:varchar region:varchar country_code:varchar",
    "inventory_snapshots": "snapshot_date:date warehouse_id:int product_id:bigint on_hand_qty:int reserved_qty:int",
    "purchase_orders": "po_id:bigint supplier_id:int warehouse_id:int po_status:varchar currency_code:varchar "
    "ordered_at:timestamp expected_at:timestamp",
    "purchase_order_lines": f"po_line_id:bigint po_id:bigint product_id:bigint quantity:int unit_cost:{D12}",
    "promotions": f"promotion_id:int promotion_name:varchar discount_type:varchar discount_value:{D12} "
    "starts_at:timestamp ends_at:timestamp",
    "gift_cards": f"gift_card_id:bigint customer_id:bigint issued_amount:{D12} balance:{D12} issued_at:timestamp "
    "expires_at:timestamp",
    "loyalty_transactions": "loyalty_txn_id:bigint customer_id:bigint order_id:bigint points:int txn_type:varchar "
    "created_at:timestamp",
}
_FINANCE = {
    "gl_accounts": "account_id:int account_code:varchar account_name:varchar account_type:varchar parent_account_id:int",
    "gl_journal_entries": "journal_entry_id:bigint entry_date:date fiscal_period:varchar entry_source:varchar "
    "entry_status:varchar posted_at:timestamp",
    "gl_journal_lines": f"journal_line_id:bigint journal_entry_id:bigint account_id:int cost_center_id:int debit:{D14} "
    f"credit:{D14} currency_code:varchar",
    "supplier_invoices": f"invoice_id:bigint supplier_id:int po_id:bigint invoice_date:date due_date:date amount:{D14} "
    "currency_code:varchar invoice_status:varchar",
    "cost_centers": "cost_center_id:int cost_center_code:varchar cost_center_name:varchar store_id:int",
}
_KAFKA = {
    "order_events": ("orders.order_events.v1", f"event_id:varchar order_id:bigint event_type:varchar order_status:varchar "
                     f"store_id:int channel:varchar total_amount:{D12} currency_code:varchar event_at:timestamp"),
    "payment_events": ("payments.payment_events.v1", f"event_id:varchar payment_id:bigint order_id:bigint event_type:varchar "
                       f"payment_method:varchar amount:{D12} currency_code:varchar event_at:timestamp"),
    "pos_transactions": ("pos.transactions.v1", f"transaction_id:varchar store_id:int register_id:int employee_id:bigint "
                         f"product_id:bigint quantity:int unit_price:{D12} payment_method:varchar transacted_at:timestamp"),
    "inventory_movements": ("inventory.movements.v1", "movement_id:varchar warehouse_id:int product_id:bigint "
                            "movement_type:varchar quantity:int reference_id:varchar moved_at:timestamp"),
    "clickstream": ("web.clickstream.v1", "event_id:varchar session_id:varchar customer_id:bigint page_type:varchar "
                    "product_id:bigint event_type:varchar user_agent_family:varchar event_at:timestamp"),
}
_S3 = {
    "supplier_catalog": ("suppliers/catalog", "csv", f"supplier_id:int supplier_sku:varchar product_id:bigint pack_size:int "
                         f"unit_cost:{D12} currency_code:varchar valid_from:date"),
    "advance_shipping_notices": ("suppliers/asn", "json", "asn_id:varchar supplier_id:int po_id:bigint warehouse_id:int "
                                 "product_id:bigint quantity:int expected_at:timestamp"),
    "marketing_campaigns": ("marketing/campaigns", "csv", f"campaign_id:varchar campaign_name:varchar channel:varchar "
                            f"objective:varchar starts_on:date ends_on:date budget:{D12}"),
    "marketing_spend": ("marketing/spend", "csv", f"spend_date:date campaign_id:varchar channel:varchar spend:{D12} "
                        "impressions:bigint clicks:bigint conversions:int"),
    "exchange_rates": ("finance/fx", "csv", "rate_date:date currency_code:varchar rate_to_usd:decimal(18,8)"),
    "store_footfall": ("stores/footfall", "csv", "store_id:int hour_start:timestamp visitors:int"),
}

TABLES: dict[str, TableSpec] = {}
for _name, _spec in _RETAIL.items():
    TABLES[f"retail_oltp__{_name}"] = TableSpec("retail_oltp", _name, _cols(_spec))
for _name, _spec in _FINANCE.items():
    TABLES[f"finance_erp__{_name}"] = TableSpec("finance_erp", _name, _cols(_spec))
for _name, (_topic, _spec) in _KAFKA.items():
    TABLES[f"kafka__{_name}"] = TableSpec("kafka", _name, _cols(_spec), location=_topic, file_format="json")
for _name, (_prefix, _fmt, _spec) in _S3.items():
    TABLES[f"s3__{_name}"] = TableSpec("s3", _name, _cols(_spec), location=_prefix, file_format=_fmt)
