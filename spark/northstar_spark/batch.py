"""Command-line and I/O skeleton shared by the batch jobs (the streaming ones use ``streaming.py``).

Why: every batch job takes the same ``--input DIR --output PATH --input-format FMT`` arguments (what spark-submit,
the DAGs and ``northstar_spark.verify`` pass), reads ``DIR/<input>.<fmt>`` for each declared input with the schema
the job declares in ``INPUT_SCHEMAS``, and writes Parquet. Bad input (a missing file, an unknown table) ends with a
message naming the path and rule and exit 2; data that breaks a job's rule (an unbalanced journal) exits 1. In both
cases nothing is written.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Mapping, Sequence

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql.types import StructType

from northstar_spark.common import ContractError, glob_exists, path_exists
from northstar_spark.source_contract import SOURCES

FORMATS = ("csv", "json", "parquet")


class JobInputError(Exception):
    """Unusable input (missing file, unknown table): exit 2."""


class JobDataError(Exception):
    """Input data breaks a business rule the job enforces before writing: exit 1."""


def parser(job_name: str, doc: str | None, default_format: str = "csv") -> argparse.ArgumentParser:
    """The common arguments; jobs add their own (``--table``, ``--as-of`` ...) before calling ``run``."""
    description = doc.strip().splitlines()[0] if doc else None
    p = argparse.ArgumentParser(prog=job_name, description=description)
    p.add_argument("--input", required=True, help="folder holding <input>.<format> for each declared input")
    p.add_argument("--output", required=True, help="Parquet output path (replaced)")
    p.add_argument("--input-format", choices=FORMATS, default=default_format)
    return p


def input_candidates(input_dir: str, name: str, fmt: str, sole_input: bool) -> list[tuple[str, str]]:
    """Where an input may be, first match wins: ``<dir>/<name>.<fmt>``; the lake layout ``<dir>/bronze/<system>__<name>``
    (Parquet; when the contract has exactly one table of that name); for single-input jobs ``<dir>`` itself (a feed's
    ``dt=`` folder of part files, as landed)."""
    base = input_dir.rstrip("/")
    found = [(f"{base}/{name}.{fmt}", fmt)]
    systems = [system for system, tables in SOURCES.items() if name in tables]
    if len(systems) == 1:
        found.append((f"{base}/bronze/{systems[0]}__{name}", "parquet"))
    if sole_input:
        found.extend((f"{base}/*.{ext}", fmt) for ext in ((fmt, "jsonl") if fmt == "json" else (fmt,)))
    return found


def read_input(
    spark: SparkSession, input_dir: str, name: str, fmt: str, schema: StructType, sole_input: bool = False
) -> DataFrame:
    """Read one declared input (a file or a folder of part files) with the declared schema."""
    candidates = input_candidates(input_dir, name, fmt, sole_input)
    existing = [(p, f) for p, f in candidates if (glob_exists(spark, p) if "*" in p else path_exists(spark, p))]
    if not existing:
        raise JobInputError(f"input {name!r} not found under --input: looked for {', '.join(p for p, _ in candidates)}")
    path, fmt = existing[0]
    if fmt == "csv":
        return spark.read.csv(path, header=True, schema=schema)
    if fmt == "json":
        return spark.read.schema(schema).json(path)
    return spark.read.schema(schema).parquet(path)


def write_parquet(df: DataFrame, output: str) -> None:
    df.write.mode("overwrite").parquet(output)


def session(spark: SparkSession | None, job_name: str) -> SparkSession:
    """Reuse the caller's (tests, verify) or the active session; spark-submit provides master and resources."""
    return spark or SparkSession.builder.appName(f"northstar-{job_name}").getOrCreate()


def run(
    p: argparse.ArgumentParser,
    argv: Sequence[str] | None,
    spark: SparkSession | None,
    inputs_for: Callable[[argparse.Namespace], Mapping[str, StructType]],
    compute: Callable[[Mapping[str, DataFrame], argparse.Namespace], DataFrame],
    write: Callable[[DataFrame, argparse.Namespace], None] | None = None,
) -> int:
    """Parse, read every declared input, compute, write; map failures to exit codes with one clear message."""
    args = p.parse_args(argv)
    active = session(spark, p.prog)
    try:
        inputs = inputs_for(args)
        frames = {
            name: read_input(active, args.input, name, args.input_format, schema, sole_input=len(inputs) == 1)
            for name, schema in inputs.items()
        }
        result = compute(frames, args)
        if write is None:
            write_parquet(result, args.output)
        else:
            write(result, args)
    except (JobInputError, ContractError) as exc:
        print(f"{p.prog}: error: {exc}", file=sys.stderr)
        return 2
    except JobDataError as exc:
        print(f"{p.prog}: refused: {exc}", file=sys.stderr)
        return 1
    return 0
