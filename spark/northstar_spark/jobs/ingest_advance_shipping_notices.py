"""Advance shipping notices (JSON under s3://northstar-raw-<env>/suppliers/asn/) into bronze.

Why: an ASN tells a warehouse what arrives when; suppliers revise an ASN by resending it with the same ``asn_id``,
so the latest ``expected_at`` wins. A notice for zero or negative units cannot be received and is rejected.
"""

from __future__ import annotations

from collections.abc import Sequence

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

from northstar_spark.common import bronze_schema, source_schema
from northstar_spark.ingest import feed_format, feed_main, to_bronze_latest

JOB_NAME = "ingest_advance_shipping_notices"
KIND = "batch"
SYSTEM, TABLE = "s3", "advance_shipping_notices"
INPUT_FORMAT = feed_format(TABLE)  # as delivered (sources.yaml format)
INPUT_SCHEMAS = {TABLE: source_schema(SYSTEM, TABLE)}
OUTPUT_SCHEMA = bronze_schema(SYSTEM, TABLE)
ORDER_BY: tuple[str, ...] = ("expected_at",)


def quality_rule() -> Column:
    """Rows failing this rule are rejected (a function: Column expressions need an active SparkContext)."""
    return (F.col("quantity") > 0) & F.col("expected_at").isNotNull()


def transform(feed: DataFrame) -> tuple[DataFrame, DataFrame]:
    """(bronze rows, rejected rows): one row per key, latest by ORDER_BY then file; quality_rule() failures rejected."""
    return to_bronze_latest(feed, SYSTEM, TABLE, ORDER_BY, quality_rule())


def main(argv: Sequence[str] | None = None, spark: SparkSession | None = None) -> int:
    return feed_main(JOB_NAME, __doc__, TABLE, transform, argv, spark)


if __name__ == "__main__":
    raise SystemExit(main())
