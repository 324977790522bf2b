"""Tiny deterministic rows for any StructType, for the job tests and the deploy-time verifier's fixtures (no
randomness: value = f(column, row index)).

Why not random data: a failing test must fail the same way on every run. Primary-key columns get unique values,
other columns cycle through a few values so joins and group-bys have something to match; ``overrides`` give a test
full control over the columns its assertions depend on.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from pyspark.sql import DataFrame, SparkSession
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

BASE_DATE = dt.date(2024, 3, 1)
BASE_TS = dt.datetime(2024, 3, 1, 8, 0, 0)
VOCABULARY: dict[str, Sequence[str]] = {
    "currency_code": ("USD", "EUR", "GBP"),
    "country_code": ("US", "DE", "GB"),
    "order_status": ("completed", "shipped", "placed"),
    "movement_type": ("receipt", "sale", "adjustment"),
    "entry_status": ("posted",),
    "_op": ("c", "u"),
}

Override = Callable[[int], Any]


def value(field: StructField, i: int, unique: bool) -> Any:
    t: DataType = field.dataType
    n = i + 1 if unique else i % 3 + 1
    if isinstance(t, LongType | IntegerType):
        return n
    if isinstance(t, DecimalType):
        return Decimal(n * 10 + 0.5).quantize(Decimal(1).scaleb(-t.scale))
    if isinstance(t, DateType):
        return BASE_DATE + dt.timedelta(days=i if unique else i % 3)
    if isinstance(t, TimestampType):
        return BASE_TS + dt.timedelta(hours=i)
    if isinstance(t, BooleanType):
        return i % 2 == 0
    if isinstance(t, StringType):
        if field.name in VOCABULARY and not unique:
            words = VOCABULARY[field.name]
            return words[i % len(words)]
        return f"{field.name}-{i if unique else i % 3}"
    if isinstance(t, StructType):
        return tuple(value(f, i, False) for f in t.fields)
    raise TypeError(f"no synthetic value for {t}")


def rows(
    schema: StructType, n: int, pk: Iterable[str] = (), overrides: Mapping[str, Override] | None = None
) -> list[tuple[Any, ...]]:
    """``n`` rows of ``schema``; ``pk`` columns unique per row; ``overrides`` win over both."""
    keys, fixed = set(pk), dict(overrides or {})
    return [
        tuple(fixed[f.name](i) if f.name in fixed else value(f, i, f.name in keys) for f in schema.fields)
        for i in range(n)
    ]


def frame(spark: SparkSession, schema: StructType, data: Sequence[tuple[Any, ...]]) -> DataFrame:
    return spark.createDataFrame(list(data), schema)


def _csv_text(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return str(v).lower()
    if isinstance(v, dt.datetime | dt.date):
        return v.isoformat()
    return str(v)


def write_input(folder: Path, name: str, fmt: str, schema: StructType, data: Sequence[tuple[Any, ...]]) -> Path:
    """Write ``<folder>/<name>.<fmt>`` as a job reads it (CSV with header, JSON lines, Parquet) without a Spark job.

    Why not ``DataFrame.write``: each Spark write is a job with its own scheduling overhead; plain Python (csv, json,
    pyarrow) keeps the job tests fast on a loaded machine.
    """
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.{fmt}"
    if fmt == "csv":
        with open(path, "w", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(schema.names)
            writer.writerows([_csv_text(v) for v in row] for row in data)
    elif fmt == "json":
        path.write_text("".join(json.dumps(dict(zip(schema.names, row, strict=True)), default=_json_default) + "\n" for row in data))
    else:
        import pyarrow as pa
        import pyarrow.parquet as pq
        from pyspark.sql.pandas.types import to_arrow_schema

        arrow_schema = to_arrow_schema(schema)
        columns = list(zip(*data, strict=True)) if data else [() for _ in schema.names]
        table = pa.Table.from_arrays([pa.array(list(c), type=f.type) for c, f in zip(columns, arrow_schema, strict=True)],
                                     schema=arrow_schema)
        pq.write_table(table, path)
    return path


def _json_default(obj: Any) -> Any:
    if isinstance(obj, dt.datetime | dt.date):
        return obj.isoformat()
    if isinstance(obj, Decimal):
        return float(obj)
    raise TypeError(type(obj))


def kafka_records(topic: str, schema: StructType, values: Sequence[tuple[Any, ...]], first_offset: int = 0,
                  partition: int = 0) -> list[dict[str, Any]]:
    """Kafka records (the stand-in file format): consecutive offsets, key = first value column."""
    return [
        {
            "topic": topic,
            "partition": partition,
            "offset": first_offset + i,
            "timestamp": BASE_TS + dt.timedelta(seconds=i),
            "key": str(v[0]),
            "value": dict(zip(schema.names, v, strict=True)),
        }
        for i, v in enumerate(values)
    ]


def land(folder: Path, file_name: str, records: Sequence[Mapping[str, Any]]) -> Path:
    """Drop one JSON-lines file into a landing folder, atomically (the file source must never see half a file)."""
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder.parent / f".{file_name}.tmp"
    tmp.write_text("".join(json.dumps(r, default=_json_default) + "\n" for r in records))
    target = folder / file_name
    tmp.rename(target)
    return target
