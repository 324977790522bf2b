"""Daily revenue batch job: orders + payments -> recognized revenue per order date (Parquet).

Why this shape: ``transform`` is a pure DataFrame -> DataFrame function so it is unit-testable on tiny
in-memory data; ``main`` only does I/O. ``OUTPUT_SCHEMA`` is the contract consumers rely on: tests and the
deploy-time verifier (``northstar_spark.verify``) fail if the job's output drifts from it. The business rule
(only shipped/completed orders count, payments are integer cents) matches the dbt mart fct_daily_revenue.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import (
    DateType,
    DecimalType,
    IntegerType,
    LongType,
    StringType,
    StructField,
    StructType,
)

JOB_NAME = "daily_revenue"
KIND = "batch"
RECOGNIZED_STATUSES = ("shipped", "completed")

ORDERS_SCHEMA = StructType(
    [
        StructField("order_id", IntegerType()),
        StructField("customer_id", IntegerType()),
        StructField("order_date", DateType()),
        StructField("status", StringType()),
    ]
)
PAYMENTS_SCHEMA = StructType(
    [
        StructField("payment_id", IntegerType()),
        StructField("order_id", IntegerType()),
        StructField("payment_method", StringType()),
        StructField("amount_cents", LongType()),
    ]
)
INPUT_FORMAT = "csv"  # default of --input-format
INPUT_SCHEMAS = {"orders": ORDERS_SCHEMA, "payments": PAYMENTS_SCHEMA}
OUTPUT_SCHEMA = StructType(
    [
        StructField("order_date", DateType(), nullable=True),
        StructField("order_count", LongType(), nullable=False),
        StructField("revenue", DecimalType(18, 2), nullable=True),
    ]
)


def transform(orders: DataFrame, payments: DataFrame) -> DataFrame:
    """Recognized revenue per order date; orders without payments count with zero revenue."""
    recognized = orders.where(F.lower(F.col("status")).isin(*RECOGNIZED_STATUSES)).select(
        "order_id", "order_date"
    )
    paid = payments.groupBy("order_id").agg(F.sum("amount_cents").alias("amount_cents"))
    return (
        recognized.join(paid, on="order_id", how="left")
        .groupBy("order_date")
        .agg(
            F.count(F.lit(1)).alias("order_count"),
            (F.coalesce(F.sum("amount_cents"), F.lit(0)).cast(DecimalType(18, 2)) / 100)
            .cast(DecimalType(18, 2))
            .alias("revenue"),
        )
        .orderBy("order_date")
    )


def _read(spark: SparkSession, path: str, fmt: str, schema: StructType) -> DataFrame:
    if fmt == "csv":
        return spark.read.csv(path, header=True, schema=schema)
    return spark.read.schema(schema).parquet(path)


def run(spark: SparkSession, input_dir: str, output: str, input_format: str = "csv") -> DataFrame:
    """Read ``{input_dir}/orders.<fmt>`` and ``payments.<fmt>``, write the result to ``output`` (Parquet)."""
    orders = _read(spark, f"{input_dir}/orders.{input_format}", input_format, ORDERS_SCHEMA)
    payments = _read(spark, f"{input_dir}/payments.{input_format}", input_format, PAYMENTS_SCHEMA)
    result = transform(orders, payments)
    result.write.mode("overwrite").parquet(output)
    return result


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog=JOB_NAME, description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--input", required=True, help="directory holding orders.<fmt> and payments.<fmt>")
    parser.add_argument("--output", required=True, help="Parquet output path (overwritten)")
    parser.add_argument("--input-format", choices=("csv", "parquet"), default="csv")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None, spark: SparkSession | None = None) -> int:
    """spark-submit / PEX entry point. Reuses an active session (tests, verify) or creates one."""
    args = parse_args(argv)
    session = spark or SparkSession.builder.appName(f"northstar-{JOB_NAME}").getOrCreate()
    run(session, args.input, args.output, args.input_format)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
