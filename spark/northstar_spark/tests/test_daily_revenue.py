"""daily_revenue: exact values and schema contract on in-memory data, plus main() over real files."""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path

import pytest
from pyspark.sql import SparkSession

from northstar_spark.jobs import daily_revenue
from northstar_spark.jobs.daily_revenue import ORDERS_SCHEMA, OUTPUT_SCHEMA, PAYMENTS_SCHEMA, main, transform

D1, D2, D3 = dt.date(2024, 1, 1), dt.date(2024, 1, 2), dt.date(2024, 1, 3)
ORDERS = [
    (1, 10, D1, "completed"),
    (2, 11, D1, "SHIPPED"),  # status match is case-insensitive
    (3, 12, D1, "returned"),  # not recognized
    (4, 13, D2, "placed"),  # not recognized
    (5, 13, D2, "completed"),  # no payment -> counts with zero revenue
    (6, 14, D3, "shipped"),
]
PAYMENTS = [
    (1, 1, "credit_card", 1000),
    (2, 1, "coupon", 250),  # two payments for one order add up
    (3, 2, "gift_card", 725),
    (4, 3, "credit_card", 9900),
    (5, 4, "credit_card", 5000),
    (6, 6, "bank_transfer", 1),
]
EXPECTED = [(D1, 2, Decimal("19.75")), (D2, 1, Decimal("0.00")), (D3, 1, Decimal("0.01"))]


def test_transform_exact_values_and_schema(spark: SparkSession) -> None:
    orders = spark.createDataFrame(ORDERS, ORDERS_SCHEMA)
    payments = spark.createDataFrame(PAYMENTS, PAYMENTS_SCHEMA)
    result = transform(orders, payments)
    assert result.schema == OUTPUT_SCHEMA
    assert [tuple(row) for row in result.collect()] == EXPECTED


def test_transform_on_empty_input_keeps_schema(spark: SparkSession) -> None:
    result = transform(spark.createDataFrame([], ORDERS_SCHEMA), spark.createDataFrame([], PAYMENTS_SCHEMA))
    assert result.schema == OUTPUT_SCHEMA
    assert result.count() == 0


def _write_csv(path: Path, header: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)


def test_main_reads_csv_and_writes_parquet(spark: SparkSession, tmp_path: Path) -> None:
    _write_csv(tmp_path / "orders.csv", ORDERS_SCHEMA.names, ORDERS)
    _write_csv(tmp_path / "payments.csv", PAYMENTS_SCHEMA.names, PAYMENTS)
    output = tmp_path / "out"

    assert main(["--input", str(tmp_path), "--output", str(output)], spark=spark) == 0

    written = spark.read.parquet(str(output))
    assert [(f.name, f.dataType) for f in written.schema] == [(f.name, f.dataType) for f in OUTPUT_SCHEMA]
    assert [tuple(r) for r in written.orderBy("order_date").collect()] == EXPECTED


def test_main_reads_parquet_input(spark: SparkSession, tmp_path: Path) -> None:
    spark.createDataFrame(ORDERS, ORDERS_SCHEMA).write.parquet(str(tmp_path / "orders.parquet"))
    spark.createDataFrame(PAYMENTS, PAYMENTS_SCHEMA).write.parquet(str(tmp_path / "payments.parquet"))
    output = tmp_path / "out"
    args = ["--input", str(tmp_path), "--output", str(output), "--input-format", "parquet"]
    assert main(args, spark=spark) == 0
    assert spark.read.parquet(str(output)).count() == len(EXPECTED)


def test_main_rejects_missing_arguments() -> None:
    with pytest.raises(SystemExit) as excinfo:
        daily_revenue.parse_args(["--input", "x"])
    assert excinfo.value.code == 2
