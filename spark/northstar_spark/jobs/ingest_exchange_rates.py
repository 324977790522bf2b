"""Daily FX rates to USD (CSV under s3://northstar-raw-<env>/finance/fx/) into bronze (finance).

Why: every non-USD amount in finance marts is converted with these rates, so a rate that is not positive or a
currency code that is not three upper-case letters is rejected rather than silently zeroing revenue.
"""

from __future__ import annotations

from collections.abc import Sequence

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

from northstar_spark.common import bronze_schema, source_schema
from northstar_spark.ingest import feed_format, feed_main, to_bronze_latest

JOB_NAME = "ingest_exchange_rates"
KIND = "batch"
SYSTEM, TABLE = "s3", "exchange_rates"
INPUT_FORMAT = feed_format(TABLE)  # as delivered (sources.yaml format)
INPUT_SCHEMAS = {TABLE: source_schema(SYSTEM, TABLE)}
OUTPUT_SCHEMA = bronze_schema(SYSTEM, TABLE)
ORDER_BY: tuple[str, ...] = ()


def quality_rule() -> Column:
    """Rows failing this rule are rejected (a function: Column expressions need an active SparkContext)."""
    return (F.col("rate_to_usd") > 0) & F.col("currency_code").rlike("^[A-Z]{3}$")


def transform(feed: DataFrame) -> tuple[DataFrame, DataFrame]:
    """(bronze rows, rejected rows): one row per key, latest by ORDER_BY then file; quality_rule() failures rejected."""
    return to_bronze_latest(feed, SYSTEM, TABLE, ORDER_BY, quality_rule())


def main(argv: Sequence[str] | None = None, spark: SparkSession | None = None) -> int:
    return feed_main(JOB_NAME, __doc__, TABLE, transform, argv, spark)


if __name__ == "__main__":
    raise SystemExit(main())
