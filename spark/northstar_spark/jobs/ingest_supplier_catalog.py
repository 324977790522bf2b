"""Supplier price/pack catalog drops (CSV under s3://northstar-raw-<env>/suppliers/catalog/) into bronze.

Why: suppliers resend their whole catalog; per (supplier_id, supplier_sku) the row with the latest ``valid_from``
wins, and a later file wins a tie (a corrected drop). A pack size below 1 or a negative cost is a supplier error:
the row is rejected (``--rejects`` keeps it for the supplier manager) instead of poisoning purchase costing.
"""

from __future__ import annotations

from collections.abc import Sequence

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

from northstar_spark.common import bronze_schema, source_schema
from northstar_spark.ingest import feed_format, feed_main, to_bronze_latest

JOB_NAME = "ingest_supplier_catalog"
KIND = "batch"
SYSTEM, TABLE = "s3", "supplier_catalog"
INPUT_FORMAT = feed_format(TABLE)  # as delivered (sources.yaml format)
INPUT_SCHEMAS = {TABLE: source_schema(SYSTEM, TABLE)}
OUTPUT_SCHEMA = bronze_schema(SYSTEM, TABLE)
ORDER_BY: tuple[str, ...] = ("valid_from",)


def quality_rule() -> Column:
    """Rows failing this rule are rejected (a function: Column expressions need an active SparkContext)."""
    return (F.col("pack_size") >= 1) & (F.col("unit_cost") >= 0)


def transform(feed: DataFrame) -> tuple[DataFrame, DataFrame]:
    """(bronze rows, rejected rows): one row per key, latest by ORDER_BY then file; quality_rule() failures rejected."""
    return to_bronze_latest(feed, SYSTEM, TABLE, ORDER_BY, quality_rule())


def main(argv: Sequence[str] | None = None, spark: SparkSession | None = None) -> int:
    return feed_main(JOB_NAME, __doc__, TABLE, transform, argv, spark)


if __name__ == "__main__":
    raise SystemExit(main())
