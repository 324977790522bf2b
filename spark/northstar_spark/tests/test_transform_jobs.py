"""Exact results of the analytical and export jobs on tiny hand-made inputs (the rule each job exists for)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from pyspark.sql import DataFrame, SparkSession

from northstar_spark.batch import JobDataError
from northstar_spark.jobs import (
    customer_identity_resolution,
    export_finance_ledger_s3,
    export_marketing_audiences,
    inventory_reconciliation,
    product_affinity,
)
from northstar_spark.tests import synthetic

T0 = dt.datetime(2024, 3, 1, 10, 0)
D = dt.date(2024, 3, 1)


def _df(spark: SparkSession, module: Any, name: str, rows: Sequence[tuple[Any, ...]]) -> DataFrame:
    return synthetic.frame(spark, module.INPUT_SCHEMAS[name], rows)


def test_identity_merges_accounts_by_email_and_stitches_sessions(spark: SparkSession) -> None:
    m = customer_identity_resolution
    customers = _df(spark, m, "customers", [
        (1, "h-ann", "Ann", "A", "US", "gold", T0, T0),
        (2, "h-ann", "Ann", "A", "US", None, T0, T0),  # guest checkout, same email: same person
        (3, "h-bob", "Bob", "B", "DE", None, T0, T0),
    ])
    click = _df(spark, m, "clickstream", [
        ("e1", "s1", None, "home", None, "view", "chrome", T0),  # anonymous, before login
        ("e2", "s1", 2, "product", 7, "view", "chrome", T0 + dt.timedelta(minutes=5)),
        ("e3", "s2", 1, "home", None, "view", "safari", T0 + dt.timedelta(days=1)),
        ("e4", "s3", None, "home", None, "view", "safari", T0),  # never logged in: nobody's
    ])
    got = [tuple(r) for r in m.transform(customers, click).collect()]
    assert got == [
        (1, 1, "h-ann", 2, 2, T0, T0 + dt.timedelta(days=1)),
        (2, 1, "h-ann", 2, 2, T0, T0 + dt.timedelta(days=1)),
        (3, 3, "h-bob", 1, 0, None, None),
    ]


def test_reconciliation_flags_shrinkage_and_refuses_unknown_types(spark: SparkSession) -> None:
    m = inventory_reconciliation
    snaps = _df(spark, m, "inventory_snapshots", [
        (D, 1, 100, 50, 0), (D + dt.timedelta(days=1), 1, 100, 57, 0),  # 50 + 10 - 2 = 58 expected: one unit missing
        (D, 1, 101, 5, 0), (D + dt.timedelta(days=1), 1, 101, 5, 0),
    ])
    moves = [
        ("m1", 1, 100, "po_receipt", 10, "po:1", T0 + dt.timedelta(days=1)),
        ("m2", 1, 100, "sale_pick", -2, "order:9", T0 + dt.timedelta(days=1)),
        ("m3", 1, 100, "sale_pick", -4, "order:8", T0),  # on the first snapshot day: before the period
    ]
    got = [(r["product_id"], r["expected_qty"], r["actual_qty"], r["variance"], r["is_discrepancy"])
           for r in m.transform(snaps, _df(spark, m, "inventory_movements", moves)).collect()]
    assert got == [(100, 58, 57, -1, True), (101, 5, 5, 0, False)]
    with pytest.raises(JobDataError, match="unknown movement_type \\['teleport'\\]"):
        m.transform(snaps, _df(spark, m, "inventory_movements", [("m9", 1, 100, "teleport", 1, "x", T0)]))


def test_affinity_support_confidence_lift(spark: SparkSession) -> None:
    m = product_affinity
    baskets = {1: [10, 20], 2: [10, 20], 3: [10, 30], 4: [40]}
    lines = [(i, order, product, 1, Decimal("1.00"), Decimal("0"), Decimal("0"))
             for i, (order, product) in enumerate(((o, p) for o, ps in baskets.items() for p in ps), start=1)]
    got = {(r["product_id"], r["related_product_id"]): (r["co_order_count"], r["support"], r["confidence"], r["lift"])
           for r in m.transform(_df(spark, m, "order_lines", lines), min_co_orders=2).collect()}
    # 4 orders; 10 in 3, 20 in 2; together in 2. 10 -> 20: conf 2/3, lift (2/3)/(2/4); 20 -> 10: conf 1, lift 1/(3/4).
    assert got == {(10, 20): (2, 0.5, pytest.approx(2 / 3), pytest.approx(4 / 3)),
                   (20, 10): (2, 0.5, 1.0, pytest.approx(4 / 3))}


def test_ledger_export_sums_posted_entries_and_refuses_unbalanced(spark: SparkSession, tmp_path: Path) -> None:
    m = export_finance_ledger_s3
    entries = [(1, D, "2024-03", "pos", "posted", T0), (2, D, "2024-03", "ap", "posted", T0), (3, D, "2024-03", "ap", "draft", T0)]
    accounts = [(4000, "4000", "Revenue", "revenue", None), (1100, "1100", "Cash", "asset", None)]
    lines = [
        (1, 1, 1100, 1, Decimal("100.00"), Decimal("0"), "USD"), (2, 1, 4000, 1, Decimal("0"), Decimal("100.00"), "USD"),
        (3, 2, 1100, 1, Decimal("20.00"), Decimal("0"), "USD"), (4, 2, 4000, 1, Decimal("0"), Decimal("20.00"), "USD"),
        (5, 3, 1100, 1, Decimal("999.00"), Decimal("0"), "USD"),  # unbalanced draft: not exported, not checked
    ]
    folder = tmp_path / "in"
    for name, rows in (("gl_journal_entries", entries), ("gl_accounts", accounts), ("gl_journal_lines", lines)):
        synthetic.write_input(folder, name, "parquet", m.INPUT_SCHEMAS[name], rows)
    assert m.main(["--input", str(folder), "--output", str(tmp_path / "out")], spark=spark) == 0
    got = [tuple(r) for r in spark.read.parquet(str(tmp_path / "out")).orderBy("account_code").collect()]
    assert got == [
        ("2024-03", "1100", "Cash", "asset", "USD", Decimal("120.00"), Decimal("0.00"), Decimal("120.00"), 2),
        ("2024-03", "4000", "Revenue", "revenue", "USD", Decimal("0.00"), Decimal("120.00"), Decimal("-120.00"), 2),
    ]
    lines[3] = (4, 2, 4000, 1, Decimal("0"), Decimal("19.00"), "USD")
    synthetic.write_input(tmp_path / "bad", "gl_journal_lines", "parquet", m.INPUT_SCHEMAS["gl_journal_lines"], lines)
    for name, rows in (("gl_journal_entries", entries), ("gl_accounts", accounts)):
        synthetic.write_input(tmp_path / "bad", name, "parquet", m.INPUT_SCHEMAS[name], rows)
    assert m.main(["--input", str(tmp_path / "bad"), "--output", str(tmp_path / "bad_out")], spark=spark) == 1
    assert not (tmp_path / "bad_out").exists()


def test_audiences_segments_and_exclude_uncontactable(spark: SparkSession) -> None:
    m = export_marketing_audiences
    as_of = dt.date(2024, 6, 30)
    old, recent = dt.datetime(2023, 12, 1), dt.datetime(2024, 6, 1)
    customers = _df(spark, m, "customers", [
        (1, "h1", "A", "A", "US", "gold", old, old),      # big recent spender -> high_value
        (2, "h2", "B", "B", "US", None, old, old),        # last order long ago -> lapsed
        (3, "h3", "C", "C", "GB", None, dt.datetime(2024, 6, 20), old),  # no order, signed up 10 days ago -> new
        (4, None, "D", "D", "DE", None, old, old),        # no email hash: cannot be activated -> excluded
        (5, "h5", "E", "E", "DE", None, old, old),        # no order, old signup -> prospect
    ])
    orders = _df(spark, m, "orders", [
        (10, 1, 1, "web", "completed", "USD", recent, recent),
        (11, 2, 1, "web", "shipped", "USD", old, old),
        (12, 1, 1, "web", "cancelled", "USD", recent, recent),  # does not count
    ])
    lines = _df(spark, m, "order_lines", [
        (1, 10, 7, 3, Decimal("200.00"), Decimal("50.00"), Decimal("0")),
        (2, 11, 7, 1, Decimal("20.00"), None, Decimal("0")),
        (3, 12, 7, 9, Decimal("999.00"), Decimal("0"), Decimal("0")),
    ])
    got = [(r["customer_id"], r["segment"], r["order_count"], r["lifetime_value"])
           for r in m.transform(customers, orders, lines, as_of).collect()]
    assert got == [(1, "high_value", 1, Decimal("550.00")), (2, "lapsed", 1, Decimal("20.00")),
                   (3, "new", 0, Decimal("0.00")), (5, "prospect", 0, Decimal("0.00"))]
    assert "first_name" not in m.OUTPUT_SCHEMA.names and "email_hash" in m.OUTPUT_SCHEMA.names
