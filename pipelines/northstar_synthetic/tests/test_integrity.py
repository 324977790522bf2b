"""Referential integrity and business invariants across the generated tables."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

import pytest

from northstar_synthetic import TABLES, Config, Dataset, generate


@pytest.fixture(scope="module")
def data() -> Dataset:
    return generate(Config(seed=5, orders=1500, days=4))


def _ids(data: Dataset, key: str, column: str) -> set[object]:
    return {r[column] for r in data.rows(key)}


FOREIGN_KEYS = [
    ("retail_oltp__orders", "customer_id", "retail_oltp__customers", "customer_id"),
    ("retail_oltp__orders", "store_id", "retail_oltp__stores", "store_id"),
    ("retail_oltp__order_lines", "order_id", "retail_oltp__orders", "order_id"),
    ("retail_oltp__order_lines", "product_id", "retail_oltp__products", "product_id"),
    ("retail_oltp__payments", "order_id", "retail_oltp__orders", "order_id"),
    ("retail_oltp__refunds", "payment_id", "retail_oltp__payments", "payment_id"),
    ("retail_oltp__returns", "order_line_id", "retail_oltp__order_lines", "order_line_id"),
    ("retail_oltp__shipments", "warehouse_id", "retail_oltp__warehouses", "warehouse_id"),
    ("retail_oltp__customer_addresses", "customer_id", "retail_oltp__customers", "customer_id"),
    ("retail_oltp__employees", "store_id", "retail_oltp__stores", "store_id"),
    ("retail_oltp__products", "category_id", "retail_oltp__product_categories", "category_id"),
    ("retail_oltp__products", "brand_id", "retail_oltp__brands", "brand_id"),
    ("retail_oltp__products", "supplier_id", "retail_oltp__suppliers", "supplier_id"),
    ("retail_oltp__purchase_order_lines", "po_id", "retail_oltp__purchase_orders", "po_id"),
    ("retail_oltp__loyalty_transactions", "order_id", "retail_oltp__orders", "order_id"),
    ("retail_oltp__gift_cards", "customer_id", "retail_oltp__customers", "customer_id"),
    ("finance_erp__gl_journal_lines", "journal_entry_id", "finance_erp__gl_journal_entries", "journal_entry_id"),
    ("finance_erp__gl_journal_lines", "account_id", "finance_erp__gl_accounts", "account_id"),
    ("finance_erp__gl_journal_lines", "cost_center_id", "finance_erp__cost_centers", "cost_center_id"),
    ("finance_erp__supplier_invoices", "po_id", "retail_oltp__purchase_orders", "po_id"),
    ("kafka__order_events", "order_id", "retail_oltp__orders", "order_id"),
    ("kafka__payment_events", "payment_id", "retail_oltp__payments", "payment_id"),
    ("kafka__pos_transactions", "employee_id", "retail_oltp__employees", "employee_id"),
    ("kafka__pos_transactions", "product_id", "retail_oltp__products", "product_id"),
    ("kafka__inventory_movements", "product_id", "retail_oltp__products", "product_id"),
    ("kafka__clickstream", "product_id", "retail_oltp__products", "product_id"),
    ("s3__supplier_catalog", "product_id", "retail_oltp__products", "product_id"),
    ("s3__advance_shipping_notices", "po_id", "retail_oltp__purchase_orders", "po_id"),
    ("s3__marketing_spend", "campaign_id", "s3__marketing_campaigns", "campaign_id"),
    ("s3__store_footfall", "store_id", "retail_oltp__stores", "store_id"),
]


@pytest.mark.parametrize(("child", "column", "parent", "key"), FOREIGN_KEYS, ids=lambda v: str(v))
def test_foreign_keys_resolve(data: Dataset, child: str, column: str, parent: str, key: str) -> None:
    values = {v for v in _ids(data, child, column) if v is not None}
    assert values, f"{child}.{column} is empty"
    assert values <= _ids(data, parent, key), sorted(values - _ids(data, parent, key))[:5]  # type: ignore[type-var]


def test_primary_keys_unique(data: Dataset) -> None:
    composite = {"retail_oltp__inventory_snapshots": 3, "s3__supplier_catalog": 2, "s3__marketing_spend": 2,
                 "s3__exchange_rates": 2, "s3__store_footfall": 2}
    for key, rows in data.tables.items():
        keys = [row[: composite.get(key, 1)] for row in rows]
        assert len(keys) == len(set(keys)), key


def test_every_journal_entry_balances(data: Dataset) -> None:
    debit: dict[object, Decimal] = defaultdict(Decimal)
    credit: dict[object, Decimal] = defaultdict(Decimal)
    for line in data.rows("finance_erp__gl_journal_lines"):
        debit[line["journal_entry_id"]] += line["debit"]  # type: ignore[operator]
        credit[line["journal_entry_id"]] += line["credit"]  # type: ignore[operator]
    assert len(debit) == len(data.tables["finance_erp__gl_journal_entries"])
    unbalanced = {k for k in debit if debit[k] != credit[k]}
    assert not unbalanced


def test_payment_equals_order_total_and_refund_within_payment(data: Dataset) -> None:
    totals: dict[object, Decimal] = defaultdict(Decimal)
    for line in data.rows("retail_oltp__order_lines"):
        totals[line["order_id"]] += line["quantity"] * line["unit_price"] - line["discount_amount"] + line["tax_amount"]  # type: ignore[operator]
    payments = {p["payment_id"]: p for p in data.rows("retail_oltp__payments")}
    for p in payments.values():
        assert p["amount"] == totals[p["order_id"]]
    for r in data.rows("retail_oltp__refunds"):
        assert 0 < r["amount"] <= payments[r["payment_id"]]["amount"]  # type: ignore[operator]
        assert payments[r["payment_id"]]["order_id"] == r["order_id"]


def test_pos_employee_works_in_that_store(data: Dataset) -> None:
    store_of = {e["employee_id"]: e["store_id"] for e in data.rows("retail_oltp__employees")}
    assert all(store_of[t["employee_id"]] == t["store_id"] for t in data.rows("kafka__pos_transactions"))


def test_events_are_in_time_order_and_every_table_has_rows(data: Dataset) -> None:
    for key, spec in TABLES.items():
        assert data.tables[key], key
        if spec.system == "kafka":
            column = next(c for c, t in spec.columns if t == "timestamp")
            times = [r[column] for r in data.rows(key)]
            assert times == sorted(times), key  # type: ignore[type-var]
