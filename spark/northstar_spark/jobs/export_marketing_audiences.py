"""Export marketing audience segments (hashed emails only) for activation in ad platforms and the ESP.

Inputs (bronze, Parquet by default): ``customers``, ``orders``, ``order_lines`` (retail_oltp). Output: one row per
contactable customer (email hash present) with order count, lifetime value of shipped/completed orders, last
order time and a segment, evaluated at ``--as-of`` (a date; default today, UTC):
  new (no order, signed up within 30 days) | prospect (no order) | lapsed (last order > 180 days ago)
  | high_value (lifetime value >= --high-value, default 500) | active.

Why only hashes: the audience leaves the company (pii tag); names and raw emails must never be in the export.
Customers without an email hash cannot be matched by the platforms and are left out.
"""

from __future__ import annotations

import argparse
import datetime as dt
from collections.abc import Mapping, Sequence
from decimal import Decimal

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import DecimalType, LongType, StringType, StructField, StructType, TimestampType

from northstar_spark import batch
from northstar_spark.common import dedup_latest, source_schema

JOB_NAME = "export_marketing_audiences"
KIND = "batch"
RECOGNIZED_STATUSES = ("shipped", "completed")
MONEY = DecimalType(18, 2)
INPUT_FORMAT = "parquet"  # default of --input-format
INPUT_SCHEMAS = {name: source_schema("retail_oltp", name) for name in ("customers", "orders", "order_lines")}
OUTPUT_SCHEMA = StructType(
    [
        StructField("customer_id", LongType()),
        StructField("email_hash", StringType()),
        StructField("country_code", StringType()),
        StructField("loyalty_tier", StringType()),
        StructField("segment", StringType()),
        StructField("order_count", LongType()),
        StructField("lifetime_value", MONEY),
        StructField("last_ordered_at", TimestampType()),
    ]
)


def transform(
    customers: DataFrame, orders: DataFrame, order_lines: DataFrame, as_of: dt.date, high_value: Decimal = Decimal(500)
) -> DataFrame:
    current = dedup_latest(customers.where(F.col("email_hash").isNotNull()), ["customer_id"], ["updated_at"])
    valid_orders = dedup_latest(orders, ["order_id"], ["updated_at"]).where(
        F.lower("order_status").isin(*RECOGNIZED_STATUSES) & (F.to_date("ordered_at") <= F.lit(as_of))
    )
    line_value = F.col("quantity") * F.col("unit_price") - F.coalesce(F.col("discount_amount"), F.lit(0))
    order_value = order_lines.groupBy("order_id").agg(F.sum(line_value).alias("order_value"))
    per_customer = (
        valid_orders.join(order_value, "order_id", "left")
        .groupBy("customer_id")
        .agg(
            F.count(F.lit(1)).alias("order_count"),
            F.sum(F.coalesce("order_value", F.lit(0))).alias("lifetime_value"),
            F.max("ordered_at").alias("last_ordered_at"),
        )
    )
    joined = current.join(per_customer, "customer_id", "left")
    days_since_order = F.datediff(F.lit(as_of), F.to_date("last_ordered_at"))
    days_since_signup = F.datediff(F.lit(as_of), F.to_date("signup_at"))
    segment = (
        F.when(F.col("order_count").isNull() & (days_since_signup <= 30), "new")
        .when(F.col("order_count").isNull(), "prospect")
        .when(days_since_order > 180, "lapsed")
        .when(F.col("lifetime_value") >= F.lit(high_value), "high_value")
        .otherwise("active")
    )
    return joined.select(
        F.col("customer_id").cast(LongType()),
        "email_hash",
        "country_code",
        "loyalty_tier",
        segment.alias("segment"),
        F.coalesce(F.col("order_count"), F.lit(0)).cast(LongType()).alias("order_count"),
        F.coalesce(F.col("lifetime_value"), F.lit(0)).cast(MONEY).alias("lifetime_value"),
        "last_ordered_at",
    ).orderBy("customer_id")


def main(argv: Sequence[str] | None = None, spark: SparkSession | None = None) -> int:
    p = batch.parser(JOB_NAME, __doc__, default_format=INPUT_FORMAT)
    p.add_argument("--as-of", type=dt.date.fromisoformat, default=None, help="evaluation date YYYY-MM-DD (default: today UTC)")
    p.add_argument("--high-value", type=Decimal, default=Decimal(500), help="lifetime value for the high_value segment")

    def compute(frames: Mapping[str, DataFrame], args: argparse.Namespace) -> DataFrame:
        as_of = args.as_of or dt.datetime.now(dt.UTC).date()
        return transform(frames["customers"], frames["orders"], frames["order_lines"], as_of, args.high_value)

    return batch.run(p, argv, spark, lambda _args: INPUT_SCHEMAS, compute)


if __name__ == "__main__":
    raise SystemExit(main())
