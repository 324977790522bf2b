"""Nightly full snapshot of one retail_oltp table (PostgreSQL extract) into ``bronze.retail_oltp__<table>``.

Why snapshots next to CDC: small reference tables (stores, brands, warehouses ...) are cheaper to re-extract whole
than to replicate, and a snapshot repairs any drift CDC may have accumulated. The extract can contain a key twice
(rows updated while the export ran): the latest ``updated_at`` wins. Rows with a null key are rejected.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping, Sequence

from pyspark.sql import DataFrame, SparkSession

from northstar_spark import batch
from northstar_spark.ingest import order_columns, output_schema, table_choices, table_inputs, to_bronze_latest

JOB_NAME = "ingest_retail_oltp_snapshot"
KIND = "batch"
SYSTEM = "retail_oltp"
TABLES = table_choices(SYSTEM)
DEFAULT_TABLE = "stores"
INPUT_FORMAT = "parquet"  # default of --input-format
INPUT_SCHEMAS = table_inputs(SYSTEM, DEFAULT_TABLE)
OUTPUT_SCHEMA = output_schema(SYSTEM, DEFAULT_TABLE)


def transform(snapshot: DataFrame, table: str = DEFAULT_TABLE) -> DataFrame:
    """The bronze table for ``table``: contract columns + lineage, one row per primary key."""
    bronze, _rejected = to_bronze_latest(snapshot, SYSTEM, table, order_columns(SYSTEM, table))
    return bronze


def main(argv: Sequence[str] | None = None, spark: SparkSession | None = None) -> int:
    p = batch.parser(JOB_NAME, __doc__, default_format=INPUT_FORMAT)
    p.add_argument("--table", choices=TABLES, default=DEFAULT_TABLE, help="retail_oltp table (reads <table>.<fmt>)")

    def compute(frames: Mapping[str, DataFrame], args: argparse.Namespace) -> DataFrame:
        return transform(frames[args.table], args.table)

    return batch.run(p, argv, spark, lambda args: table_inputs(SYSTEM, args.table), compute)


if __name__ == "__main__":
    raise SystemExit(main())
