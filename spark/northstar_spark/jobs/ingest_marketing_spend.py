"""Daily marketing spend per campaign (CSV under s3://northstar-raw-<env>/marketing/spend/) into bronze.

Why: ad platforms restate recent days, so a later file for the same (spend_date, campaign_id) replaces the earlier
one. Rows with negative spend or more clicks than impressions are platform export errors and are rejected.
"""

from __future__ import annotations

from collections.abc import Sequence

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

from northstar_spark.common import bronze_schema, source_schema
from northstar_spark.ingest import feed_format, feed_main, to_bronze_latest

JOB_NAME = "ingest_marketing_spend"
KIND = "batch"
SYSTEM, TABLE = "s3", "marketing_spend"
INPUT_FORMAT = feed_format(TABLE)  # as delivered (sources.yaml format)
INPUT_SCHEMAS = {TABLE: source_schema(SYSTEM, TABLE)}
OUTPUT_SCHEMA = bronze_schema(SYSTEM, TABLE)
ORDER_BY: tuple[str, ...] = ()


def quality_rule() -> Column:
    """Rows failing this rule are rejected (a function: Column expressions need an active SparkContext)."""
    return (F.col("spend") >= 0) & (F.col("clicks") <= F.col("impressions"))


def transform(feed: DataFrame) -> tuple[DataFrame, DataFrame]:
    """(bronze rows, rejected rows): one row per key, latest by ORDER_BY then file; quality_rule() failures rejected."""
    return to_bronze_latest(feed, SYSTEM, TABLE, ORDER_BY, quality_rule())


def main(argv: Sequence[str] | None = None, spark: SparkSession | None = None) -> int:
    return feed_main(JOB_NAME, __doc__, TABLE, transform, argv, spark)


if __name__ == "__main__":
    raise SystemExit(main())
