"""Helpers every Northstar Spark job shares: contract schemas, bronze columns, dedup/CDC merge, safe overwrite.

Why one module: the bronze naming contract (``bronze.<system>__<name>`` plus ``_ingested_at`` and lineage columns,
pipelines/catalog/sources.yaml) must be implemented once, or 20 jobs drift apart. Schemas are derived from the
contract (``source_contract.py``, generated from sources.yaml) instead of being retyped per job, so a column change
in the contract reaches every job -- and its declared ``INPUT_SCHEMAS``/``OUTPUT_SCHEMA`` -- at once.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from pyspark.sql import Column, DataFrame, SparkSession, Window
from pyspark.sql import functions as F
from pyspark.sql.types import (
    BooleanType,
    DataType,
    DateType,
    DecimalType,
    IntegerType,
    LongType,
    StringType,
    StructField,
    StructType,
    TimestampType,
)

from northstar_spark.source_contract import SOURCES

CONTRACT_FILE = "pipelines/catalog/sources.yaml"
INGESTED_AT = "_ingested_at"
SOURCE_FILE = "_source_file"
KAFKA_PARTITION = "_kafka_partition"
KAFKA_OFFSET = "_kafka_offset"
CDC_OP = "_op"
CDC_LSN = "_lsn"
CDC_DELETE = "d"

_SIMPLE_TYPES: dict[str, DataType] = {
    "bigint": LongType(),
    "int": IntegerType(),
    "varchar": StringType(),
    "date": DateType(),
    "timestamp": TimestampType(),
    "boolean": BooleanType(),
}
_DECIMAL = re.compile(r"^decimal\((\d+),(\d+)\)$")


class ContractError(ValueError):
    """A job asked for a table or type the source contract does not define."""


def spark_type(logical: str) -> DataType:
    """Map a sources.yaml logical type (bigint, int, varchar, date, timestamp, boolean, decimal(p,s)) to Spark."""
    normalised = logical.replace(" ", "").lower()
    if normalised in _SIMPLE_TYPES:
        return _SIMPLE_TYPES[normalised]
    match = _DECIMAL.match(normalised)
    if match:
        return DecimalType(int(match.group(1)), int(match.group(2)))
    raise ContractError(f"{CONTRACT_FILE}: unknown logical type {logical!r}")


def table_spec(system: str, table: str) -> Mapping[str, Any]:
    """The contract entry of ``system.table``; a clear error names the contract file when it is missing."""
    try:
        return SOURCES[system][table]
    except KeyError:
        known = ", ".join(sorted(SOURCES.get(system, {}))) or f"(no system {system!r})"
        raise ContractError(f"{CONTRACT_FILE}: systems.{system}.tables has no {table!r}; known: {known}") from None


def tables_of(system: str, having_column: str | None = None) -> list[str]:
    """Table names of a system in contract order, optionally only those with ``having_column``."""
    return [
        name
        for name, spec in SOURCES[system].items()
        if having_column is None or any(col == having_column for col, _ in spec["columns"])
    ]


def source_schema(system: str, table: str) -> StructType:
    """The table's columns as the contract declares them (all nullable: sources do not guarantee NOT NULL)."""
    return StructType([StructField(col, spark_type(typ), True) for col, typ in table_spec(system, table)["columns"]])


def primary_key(system: str, table: str) -> list[str]:
    return list(table_spec(system, table)["pk"])


def bronze_table(system: str, table: str) -> str:
    """The warehouse name of the bronze table (``bronze.<system>__<name>``)."""
    table_spec(system, table)
    return f"bronze.{system}__{table}"


def lineage_fields(system: str) -> list[StructField]:
    """``_ingested_at`` plus the lineage columns: Kafka partition/offset for topics, the source file otherwise."""
    fields = [StructField(INGESTED_AT, TimestampType(), True)]
    if next(iter(SOURCES[system].values()))["kind"] == "kafka":
        return [*fields, StructField(KAFKA_PARTITION, IntegerType(), True), StructField(KAFKA_OFFSET, LongType(), True)]
    return [*fields, StructField(SOURCE_FILE, StringType(), True)]


def bronze_schema(system: str, table: str, partition_last: Sequence[str] = ()) -> StructType:
    """Source columns + ``_ingested_at`` + lineage; ``partition_last`` columns move to the end (as Parquet reads them)."""
    fields = [*source_schema(system, table).fields, *lineage_fields(system)]
    ordered = [f for f in fields if f.name not in partition_last] + [f for n in partition_last for f in fields if f.name == n]
    return StructType(ordered)


def conform(df: DataFrame, schema: StructType) -> DataFrame:
    """Select exactly ``schema``'s columns, in order, cast to its types (extra input columns are dropped)."""
    missing = [f.name for f in schema.fields if f.name not in df.columns]
    if missing:
        raise ContractError(f"input lacks contract columns {missing} (expected {schema.simpleString()})")
    return df.select([F.col(f.name).cast(f.dataType).alias(f.name) for f in schema.fields])


def to_bronze(df: DataFrame, system: str, table: str, lineage: Mapping[str, Column] | None = None) -> DataFrame:
    """Add ``_ingested_at`` (now) and lineage to contract columns; default lineage is the Spark input file name."""
    if lineage is None:
        lineage = {SOURCE_FILE: F.input_file_name()} if lineage_fields(system)[-1].name == SOURCE_FILE else {}
    with_lineage = df.withColumn(INGESTED_AT, F.current_timestamp())
    for name, column in lineage.items():
        with_lineage = with_lineage.withColumn(name, column)
    return conform(with_lineage, bronze_schema(system, table))


def dedup_latest(df: DataFrame, keys: Sequence[str], order_by: Sequence[str]) -> DataFrame:
    """One row per key: the greatest ``order_by`` (nulls lowest). Why: re-delivered extracts and CDC replays."""
    window = Window.partitionBy(*keys).orderBy(*[F.col(c).desc_nulls_last() for c in order_by])
    return df.withColumn("_rank", F.row_number().over(window)).where("_rank = 1").drop("_rank")


def cdc_merge(
    current: DataFrame | None,
    changes: DataFrame,
    keys: Sequence[str],
    order_col: str = "updated_at",
) -> DataFrame:
    """Apply a CDC change batch (rows with ``_op`` c/u/r/d and ``_lsn``) to the current bronze state.

    Per key the latest version wins by ``order_col`` then ``_lsn`` -- so a replayed, older change never overwrites
    a newer row -- and a winning delete removes the key. ``current`` rows keep their original lineage.
    """
    change_cols = [c for c in changes.columns if c not in (CDC_OP, CDC_LSN)]
    candidates = changes.select(*change_cols, F.col(CDC_OP), F.col(CDC_LSN).cast(LongType()).alias(CDC_LSN))
    if current is not None:
        existing = current.select(*change_cols).withColumn(CDC_OP, F.lit("r")).withColumn(CDC_LSN, F.lit(-1).cast(LongType()))
        candidates = existing.unionByName(candidates)
    latest = dedup_latest(candidates, keys, [order_col, CDC_LSN])
    return latest.where(F.col(CDC_OP) != CDC_DELETE).drop(CDC_OP, CDC_LSN)


def require_not_null(df: DataFrame, columns: Iterable[str]) -> tuple[DataFrame, DataFrame]:
    """Split into (kept, rejected): rows with a null key column cannot be merged or joined and are set aside."""
    condition = F.lit(True)
    for column in columns:
        condition = condition & F.col(column).isNotNull()
    return df.where(condition), df.where(~condition)


def path_exists(spark: SparkSession, path: str) -> bool:
    """Whether ``path`` exists on its Hadoop filesystem (local, HDFS or S3 alike)."""
    jvm = spark.sparkContext._jvm
    assert jvm is not None
    hpath = jvm.org.apache.hadoop.fs.Path(path)
    return bool(hpath.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration()).exists(hpath))


def glob_exists(spark: SparkSession, pattern: str) -> bool:
    """Whether a Hadoop glob (``dir/*.csv``) matches at least one path."""
    jvm = spark.sparkContext._jvm
    assert jvm is not None
    hpath = jvm.org.apache.hadoop.fs.Path(pattern)
    matches = hpath.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration()).globStatus(hpath)
    return matches is not None and len(matches) > 0


def replace_parquet(df: DataFrame, path: str, partition_by: Sequence[str] = ()) -> None:
    """Write ``df`` to ``path`` even when ``df`` reads from ``path`` (CDC merges into its own bronze table).

    Why not ``mode("overwrite")``: Spark deletes the target before the lazy plan has read it. The result goes to a
    staging folder first, then replaces the target by rename; readers see either the old or the new table.
    """
    spark = df.sparkSession
    jvm = spark.sparkContext._jvm
    assert jvm is not None
    target = jvm.org.apache.hadoop.fs.Path(path)
    fs = target.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration())
    token = uuid.uuid4().hex[:12]
    staging = jvm.org.apache.hadoop.fs.Path(f"{path.rstrip('/')}.staging-{token}")
    writer = df.write.mode("errorifexists")
    if partition_by:
        writer = writer.partitionBy(*partition_by)
    writer.parquet(staging.toString())
    if fs.exists(target):
        old = jvm.org.apache.hadoop.fs.Path(f"{path.rstrip('/')}.old-{token}")
        if not fs.rename(target, old):
            raise OSError(f"cannot move {path} aside (staging kept at {staging.toString()})")
        if not fs.rename(staging, target):
            fs.rename(old, target)
            raise OSError(f"cannot move {staging.toString()} to {path}; previous table restored")
        fs.delete(old, True)
    elif not fs.rename(staging, target):
        raise OSError(f"cannot move {staging.toString()} to {path}")
