"""Merge a batch of CDC changes (PostgreSQL logical replication) into ``bronze.retail_oltp__<table>``.

Input ``<input>/<table>.<fmt>``: Debezium-style flattened change records -- the table's columns plus ``_op``
(c=insert, u=update, r=snapshot read, d=delete) and ``_lsn`` (log sequence number); rows without ``_op`` (a plain
extract) are upserts. The bronze table at
``--output`` is the current state: per primary key the latest version by ``updated_at`` (then ``_lsn``) wins, so a
replayed or out-of-order older change never overwrites a newer row, and a winning delete removes the key.

Why merge-in-place via staging + rename (``common.replace_parquet``): without a table format (Delta/Iceberg jars
cannot be fetched here) Spark cannot MERGE; the job reads the current table, computes the new state, writes it to a
staging folder and swaps it in.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping, Sequence

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import LongType, StringType, StructField, StructType

from northstar_spark import batch
from northstar_spark.common import (
    CDC_LSN,
    CDC_OP,
    INGESTED_AT,
    SOURCE_FILE,
    bronze_schema,
    cdc_merge,
    conform,
    path_exists,
    primary_key,
    replace_parquet,
    source_schema,
    tables_of,
)

JOB_NAME = "ingest_retail_oltp_cdc"
KIND = "batch"
SYSTEM = "retail_oltp"
TABLES = tables_of(SYSTEM, having_column="updated_at")
DEFAULT_TABLE = "orders"
CDC_OPS = ("c", "u", "r", "d")


def change_schema(table: str) -> StructType:
    return StructType([*source_schema(SYSTEM, table).fields, StructField(CDC_OP, StringType()), StructField(CDC_LSN, LongType())])


INPUT_FORMAT = "json"  # default of --input-format
INPUT_SCHEMAS = {DEFAULT_TABLE: change_schema(DEFAULT_TABLE)}
OUTPUT_SCHEMA = bronze_schema(SYSTEM, DEFAULT_TABLE)


def transform(changes: DataFrame, current: DataFrame | None = None, table: str = DEFAULT_TABLE) -> DataFrame:
    """The new bronze state: ``current`` with ``changes`` applied (unknown ``_op`` values or null keys are dropped)."""
    keys = primary_key(SYSTEM, table)
    # An extract without _op (a plain table dump in the landing zone) is a batch of upserts.
    changes = changes.withColumn(CDC_OP, F.coalesce(F.col(CDC_OP), F.lit("u")))
    usable = changes.where(F.col(CDC_OP).isin(*CDC_OPS))
    for key in keys:
        usable = usable.where(F.col(key).isNotNull())
    # input_file_name() must be taken right above the scan, before the merge shuffles rows.
    staged = usable.withColumn(INGESTED_AT, F.current_timestamp()).withColumn(SOURCE_FILE, F.input_file_name())
    bronze = bronze_schema(SYSTEM, table)
    staged = conform(staged, StructType([*bronze.fields, *change_schema(table).fields[-2:]]))
    return conform(cdc_merge(current, staged, keys), bronze)


def main(argv: Sequence[str] | None = None, spark: SparkSession | None = None) -> int:
    p = batch.parser(JOB_NAME, __doc__, default_format=INPUT_FORMAT)
    p.add_argument("--table", choices=TABLES, default=DEFAULT_TABLE, help="retail_oltp table with updated_at")

    def compute(frames: Mapping[str, DataFrame], args: argparse.Namespace) -> DataFrame:
        session = frames[args.table].sparkSession
        schema = bronze_schema(SYSTEM, args.table)
        current = session.read.schema(schema).parquet(args.output) if path_exists(session, args.output) else None
        return transform(frames[args.table], current, args.table)

    def write(result: DataFrame, args: argparse.Namespace) -> None:
        replace_parquet(result, args.output)

    return batch.run(p, argv, spark, lambda args: {args.table: change_schema(args.table)}, compute, write)


if __name__ == "__main__":
    raise SystemExit(main())
