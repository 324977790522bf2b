"""Daily inventory positions (retail_oltp.inventory_snapshots) into ``bronze.retail_oltp__inventory_snapshots``.

Why its own job: the table is large and append-mostly by ``snapshot_date``, so the bronze table is partitioned by
it and a run replaces only the days present in its input (dynamic partition overwrite): re-running a day after a
corrected extract fixes that day and leaves every other day untouched. Negative quantities are rejected.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping, Sequence

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

from northstar_spark import batch
from northstar_spark.common import bronze_schema, conform, source_schema
from northstar_spark.ingest import to_bronze_latest

JOB_NAME = "ingest_inventory_snapshots"
KIND = "batch"
SYSTEM, TABLE = "retail_oltp", "inventory_snapshots"
PARTITION_BY = ("snapshot_date",)
INPUT_FORMAT = "parquet"  # default of --input-format
INPUT_SCHEMAS = {TABLE: source_schema(SYSTEM, TABLE)}
# Parquet readers list partition columns last, so that is the declared (and verified) column order.
OUTPUT_SCHEMA = bronze_schema(SYSTEM, TABLE, partition_last=PARTITION_BY)


def quality_rule() -> Column:
    """Rows failing this rule are rejected (a function: Column expressions need an active SparkContext)."""
    return (F.col("on_hand_qty") >= 0) & (F.col("reserved_qty") >= 0)


def transform(snapshots: DataFrame) -> DataFrame:
    bronze, _rejected = to_bronze_latest(snapshots, SYSTEM, TABLE, rule=quality_rule())
    return conform(bronze, OUTPUT_SCHEMA)


def write(result: DataFrame, args: argparse.Namespace) -> None:
    """Replace only the ``snapshot_date`` partitions present in this run."""
    (
        result.write.mode("overwrite")
        .option("partitionOverwriteMode", "dynamic")
        .partitionBy(*PARTITION_BY)
        .parquet(args.output)
    )


def main(argv: Sequence[str] | None = None, spark: SparkSession | None = None) -> int:
    p = batch.parser(JOB_NAME, __doc__, default_format=INPUT_FORMAT)

    def compute(frames: Mapping[str, DataFrame], args: argparse.Namespace) -> DataFrame:
        return transform(frames[TABLE])

    return batch.run(p, argv, spark, lambda _args: INPUT_SCHEMAS, compute, write)


if __name__ == "__main__":
    raise SystemExit(main())
