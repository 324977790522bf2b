"""Job-specific behaviour of the ingestion jobs: CDC merge semantics, refusals, partition replacement, rejects."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

from pyspark.sql import SparkSession

from northstar_spark import common
from northstar_spark.jobs import (
    ingest_exchange_rates,
    ingest_finance_erp_snapshot,
    ingest_inventory_snapshots,
    ingest_retail_oltp_cdc,
)
from northstar_spark.tests import synthetic

T0 = dt.datetime(2024, 3, 1, 9, 0)


def _order(order_id: int, status: str, minutes: int, op: str, lsn: int) -> tuple[object, ...]:
    return (order_id, 10 + order_id, 1, "web", status, "USD", T0, T0 + dt.timedelta(minutes=minutes), op, lsn)


def test_cdc_keeps_latest_version_applies_deletes_and_ignores_replays(spark: SparkSession, tmp_path: Path) -> None:
    schema = ingest_retail_oltp_cdc.change_schema("orders")
    bronze = tmp_path / "bronze" / "retail_oltp__orders"
    batch1 = [
        _order(1, "placed", 0, "c", 100),
        _order(1, "shipped", 30, "u", 105),  # later version of order 1 in the same batch wins
        _order(2, "placed", 0, "c", 101),
        _order(3, "placed", 0, "c", 102),
    ]
    synthetic.write_input(tmp_path / "b1", "orders", "json", schema, batch1)
    argv = ["--output", str(bronze), "--table", "orders"]
    assert ingest_retail_oltp_cdc.main(["--input", str(tmp_path / "b1"), *argv], spark=spark) == 0

    batch2 = [
        _order(1, "placed", 0, "u", 100),  # replay of an older change: must not overwrite "shipped"
        _order(2, "completed", 60, "u", 110),
        _order(3, "placed", 90, "d", 111),  # delete
        _order(4, "placed", 5, "c", 112),
    ]
    synthetic.write_input(tmp_path / "b2", "orders", "json", schema, batch2)
    assert ingest_retail_oltp_cdc.main(["--input", str(tmp_path / "b2"), *argv], spark=spark) == 0

    rows = {r["order_id"]: r for r in spark.read.parquet(str(bronze)).collect()}
    assert {k: r["order_status"] for k, r in rows.items()} == {1: "shipped", 2: "completed", 4: "placed"}
    assert rows[1][common.SOURCE_FILE].endswith("b1/orders.json")  # unchanged row keeps its lineage
    assert rows[2][common.SOURCE_FILE].endswith("b2/orders.json")
    assert all(r[common.INGESTED_AT] is not None for r in rows.values())
    assert not list(bronze.parent.glob("*.staging-*")) and not list(bronze.parent.glob("*.old-*"))


def test_finance_snapshot_refuses_conflicting_keys_and_writes_nothing(
    spark: SparkSession, tmp_path: Path, capsys: object
) -> None:
    schema = ingest_finance_erp_snapshot.INPUT_SCHEMAS["gl_journal_lines"]
    line = (1, 7, 4000, 1, Decimal("10.00"), Decimal("0.00"), "USD")
    rows = [
        line,
        line,
        (2, 7, 1000, 1, Decimal("0.00"), Decimal("10.00"), "USD"),
        (2, 7, 1000, 1, Decimal("0.00"), Decimal("99.00"), "USD"),
    ]
    synthetic.write_input(tmp_path / "in", "gl_journal_lines", "parquet", schema, rows)
    output = tmp_path / "out"
    assert ingest_finance_erp_snapshot.main(["--input", str(tmp_path / "in"), "--output", str(output)], spark=spark) == 1
    err = capsys.readouterr().err  # type: ignore[attr-defined]
    assert "journal_line_id=2" in err and "journal_line_id=1" not in err  # exact duplicates are not conflicts
    assert not output.exists()


def test_missing_input_is_a_usage_error(spark: SparkSession, tmp_path: Path, capsys: object) -> None:
    argv = ["--input", str(tmp_path), "--output", str(tmp_path / "o"), "--table", "cost_centers"]
    code = ingest_finance_erp_snapshot.main(argv, spark=spark)
    assert code == 2
    err = capsys.readouterr().err  # type: ignore[attr-defined]
    assert f"input 'cost_centers' not found under --input: looked for {tmp_path}/cost_centers.parquet" in err


def test_inventory_rerun_replaces_only_its_days(spark: SparkSession, tmp_path: Path) -> None:
    schema = ingest_inventory_snapshots.INPUT_SCHEMAS["inventory_snapshots"]
    d1, d2 = dt.date(2024, 3, 1), dt.date(2024, 3, 2)
    output = tmp_path / "bronze"
    synthetic.write_input(tmp_path / "run1", "inventory_snapshots", "parquet", schema,
                          [(d1, 1, 100, 5, 0), (d2, 1, 100, 7, 1), (d2, 1, 101, -3, 0)])  # negative on-hand rejected
    assert ingest_inventory_snapshots.main(["--input", str(tmp_path / "run1"), "--output", str(output)], spark=spark) == 0
    synthetic.write_input(tmp_path / "run2", "inventory_snapshots", "parquet", schema, [(d2, 1, 100, 6, 1)])
    assert ingest_inventory_snapshots.main(["--input", str(tmp_path / "run2"), "--output", str(output)], spark=spark) == 0

    got = sorted((r["snapshot_date"], r["product_id"], r["on_hand_qty"]) for r in spark.read.parquet(str(output)).collect())
    assert got == [(d1, 100, 5), (d2, 100, 6)]


def test_feed_rejects_bad_rows_and_keeps_the_latest_file(spark: SparkSession, tmp_path: Path) -> None:
    schema = ingest_exchange_rates.INPUT_SCHEMAS["exchange_rates"]
    day = dt.date(2024, 3, 1)
    feed = tmp_path / "in" / "exchange_rates.csv"
    feed.mkdir(parents=True)
    synthetic.write_input(feed, "dt=2024-03-01", "csv", schema,
                          [(day, "EUR", Decimal("1.08")), (day, "GBP", Decimal("1.27")),
                           (day, "usd", Decimal("1")), (day, "JPY", Decimal("0"))])
    synthetic.write_input(feed, "dt=2024-03-02", "csv", schema, [(day, "EUR", Decimal("1.09"))])  # restated rate
    output, rejects = tmp_path / "out", tmp_path / "rejects"
    argv = ["--input", str(tmp_path / "in"), "--output", str(output), "--rejects", str(rejects)]
    assert ingest_exchange_rates.main(argv, spark=spark) == 0

    got = {r["currency_code"]: r["rate_to_usd"] for r in spark.read.parquet(str(output)).collect()}
    assert got == {"EUR": Decimal("1.09000000"), "GBP": Decimal("1.27000000")}
    assert sorted(r["currency_code"] for r in spark.read.parquet(str(rejects)).collect()) == ["JPY", "usd"]
