"""Nightly snapshot of one finance_erp table (general ledger, AP) into ``bronze.finance_erp__<table>``.

Why stricter than the retail snapshot: the ERP export runs in one repeatable-read transaction, so a primary key that
appears twice with different content means a broken extract, not a concurrent update. Loading it would double
ledger amounts downstream, so the job refuses the whole snapshot (exit 1, nothing written) and names the keys.
Exact duplicate rows (a re-sent part file) are harmless and collapse to one.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping, Sequence

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from northstar_spark import batch
from northstar_spark.common import primary_key, source_schema
from northstar_spark.ingest import output_schema, table_choices, table_inputs, to_bronze_latest

JOB_NAME = "ingest_finance_erp_snapshot"
KIND = "batch"
SYSTEM = "finance_erp"
TABLES = table_choices(SYSTEM)
DEFAULT_TABLE = "gl_journal_lines"
INPUT_FORMAT = "parquet"  # default of --input-format
INPUT_SCHEMAS = table_inputs(SYSTEM, DEFAULT_TABLE)
OUTPUT_SCHEMA = output_schema(SYSTEM, DEFAULT_TABLE)


def conflicting_keys(snapshot: DataFrame, table: str, limit: int = 5) -> list[str]:
    """Primary keys carrying more than one distinct row (up to ``limit``, for the error message)."""
    keys = primary_key(SYSTEM, table)
    columns = source_schema(SYSTEM, table).names
    distinct = snapshot.select(*columns).distinct()
    clashes = distinct.groupBy(*keys).count().where(F.col("count") > 1).orderBy(*keys).limit(limit)
    return [", ".join(f"{k}={row[k]}" for k in keys) for row in clashes.collect()]


def transform(snapshot: DataFrame, table: str = DEFAULT_TABLE) -> DataFrame:
    """Bronze rows for ``table``; raises JobDataError when a key has conflicting versions."""
    clashes = conflicting_keys(snapshot, table)
    if clashes:
        raise batch.JobDataError(f"finance_erp.{table}: primary key with conflicting rows: {'; '.join(clashes)}")
    bronze, _rejected = to_bronze_latest(snapshot.dropDuplicates(), SYSTEM, table)
    return bronze


def main(argv: Sequence[str] | None = None, spark: SparkSession | None = None) -> int:
    p = batch.parser(JOB_NAME, __doc__, default_format=INPUT_FORMAT)
    p.add_argument("--table", choices=TABLES, default=DEFAULT_TABLE, help="finance_erp table (reads <table>.<fmt>)")

    def compute(frames: Mapping[str, DataFrame], args: argparse.Namespace) -> DataFrame:
        return transform(frames[args.table], args.table)

    return batch.run(p, argv, spark, lambda args: table_inputs(SYSTEM, args.table), compute)


if __name__ == "__main__":
    raise SystemExit(main())
