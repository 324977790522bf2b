"""Bronze ingestion building blocks for snapshot, feed and table-parametrised jobs.

Why shared: the 10 batch ingestion jobs differ only in source, key, ordering and a quality rule; the mechanics --
reject rows with a null key or failing the rule, add ``_ingested_at``/``_source_file``, keep one row per primary key
(the latest by the job's ordering, later files winning ties) -- are the same and must behave the same.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Mapping, Sequence

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql.types import StructType

from northstar_spark import batch
from northstar_spark.common import (
    SOURCE_FILE,
    bronze_schema,
    dedup_latest,
    primary_key,
    require_not_null,
    source_schema,
    table_spec,
    tables_of,
    to_bronze,
)


def split_valid(df: DataFrame, keys: Sequence[str], rule: Column | None) -> tuple[DataFrame, DataFrame]:
    """(kept, rejected): a null key or a failed (or unknown: null) rule rejects the row."""
    kept, rejected = require_not_null(df, keys)
    if rule is None:
        return kept, rejected
    passes = F.coalesce(rule, F.lit(False))
    return kept.where(passes), rejected.unionByName(kept.where(~passes))


def to_bronze_latest(
    df: DataFrame, system: str, table: str, order_by: Sequence[str] = (), rule: Column | None = None
) -> tuple[DataFrame, DataFrame]:
    """(bronze rows, rejected source rows): one bronze row per key, latest by ``order_by`` then source file."""
    keys = primary_key(system, table)
    kept, rejected = split_valid(df, keys, rule)
    bronze = to_bronze(kept, system, table)
    return dedup_latest(bronze, keys, [*order_by, SOURCE_FILE]), rejected


def feed_format(table: str) -> str:
    """The format an S3 feed is delivered in (sources.yaml ``format``)."""
    return str(table_spec("s3", table)["format"])


def add_rejects_argument(p: argparse.ArgumentParser) -> None:
    p.add_argument("--rejects", help="also write rejected source rows (Parquet) here, for the data owner")


def feed_main(
    job_name: str,
    doc: str | None,
    table: str,
    transform: Callable[[DataFrame], tuple[DataFrame, DataFrame]],
    argv: Sequence[str] | None,
    spark: object | None,
) -> int:
    """main() of an S3 feed job: ``<input>/<table>.<format>`` -> bronze, rejected rows optionally kept aside."""
    p = batch.parser(job_name, doc, default_format=feed_format(table))
    add_rejects_argument(p)
    outputs: dict[str, DataFrame] = {}

    def compute(frames: Mapping[str, DataFrame], args: argparse.Namespace) -> DataFrame:
        bronze, rejected = transform(frames[table])
        outputs["rejected"] = rejected
        return bronze

    def write(result: DataFrame, args: argparse.Namespace) -> None:
        batch.write_parquet(result, args.output)
        if args.rejects:
            outputs["rejected"].write.mode("overwrite").parquet(args.rejects)

    return batch.run(p, argv, spark, lambda _args: {table: source_schema("s3", table)}, compute, write)  # type: ignore[arg-type]


def table_inputs(system: str, table: str) -> dict[str, StructType]:
    return {table: source_schema(system, table)}


def order_columns(system: str, table: str) -> list[str]:
    """Snapshots keep the latest ``updated_at`` per key when the table has one."""
    return ["updated_at"] if "updated_at" in dict(table_spec(system, table)["columns"]) else []


def table_choices(system: str) -> list[str]:
    return tables_of(system)


def output_schema(system: str, table: str) -> StructType:
    return bronze_schema(system, table)
