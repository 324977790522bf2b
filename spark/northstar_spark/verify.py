"""Deploy-time smoke check of a Spark job: ``python -m northstar_spark.verify --job daily_revenue [--job-pex PATH]``.

With ``--job-pex`` the packaged job PEX runs under spark-submit exactly as deployed (see ``verify_pex``); this is what
the release engine calls (the ``spark_verify`` PEX). Without it, the job's source runs in this process:

Runs the job's real ``main()`` in local mode over a small built-in fixture written to a temp dir, reads the
Parquet output back and prints one JSON object on stdout::

    {"job": ..., "rows": ..., "schema_matches": bool, "values_match": bool, "schema": {...}}

Exit 0 only if the schema matches the job's declared OUTPUT_SCHEMA and the values match the fixture's
expected result. Why: the release engine runs this inside the built job PEX, so it proves that the packaged
artifact (dependencies, entry point, I/O) works, not just the source tree.

Schema comparison ignores nullability: Spark reads every Parquet column back as nullable.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, NoReturn

from pyspark.sql import SparkSession
from pyspark.sql.types import StructField, StructType

from northstar_spark.jobs import daily_revenue
from northstar_spark.local import local_session


@dataclass(frozen=True)
class JobFixture:
    """What verify needs to run a job: its entry point, contract, input files and expected rows."""

    main: Callable[..., int]
    output_schema: StructType
    inputs: dict[str, list[dict[str, Any]]]
    expected: list[tuple[Any, ...]]


JOBS: dict[str, JobFixture] = {
    daily_revenue.JOB_NAME: JobFixture(
        main=daily_revenue.main,
        output_schema=daily_revenue.OUTPUT_SCHEMA,
        inputs={
            "orders.csv": [
                {"order_id": 1, "customer_id": 1, "order_date": "2024-01-01", "status": "completed"},
                {"order_id": 2, "customer_id": 2, "order_date": "2024-01-01", "status": "returned"},
                {"order_id": 3, "customer_id": 3, "order_date": "2024-01-02", "status": "shipped"},
            ],
            "payments.csv": [
                {"payment_id": 1, "order_id": 1, "payment_method": "credit_card", "amount_cents": 1050},
                {"payment_id": 2, "order_id": 1, "payment_method": "coupon", "amount_cents": 200},
                {"payment_id": 3, "order_id": 2, "payment_method": "gift_card", "amount_cents": 999},
                {"payment_id": 4, "order_id": 3, "payment_method": "credit_card", "amount_cents": 1},
            ],
        },
        expected=[("2024-01-01", 1, Decimal("12.50")), ("2024-01-02", 1, Decimal("0.01"))],
    )
}


def as_nullable(schema: StructType) -> StructType:
    """The schema as it reads back from Parquet: same names and types, every field nullable."""
    return StructType([StructField(f.name, f.dataType, True, f.metadata) for f in schema.fields])


def _write_inputs(folder: Path, inputs: dict[str, list[dict[str, Any]]]) -> None:
    for name, rows in inputs.items():
        with open(folder / name, "w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)


def verify(job: str, spark: SparkSession) -> dict[str, Any]:
    """Run ``job`` end to end on its fixture and report how its output compares to the contract."""
    fixture = JOBS[job]
    with tempfile.TemporaryDirectory(prefix=f"verify-{job}-") as tmp:
        folder = Path(tmp)
        _write_inputs(folder, fixture.inputs)
        output = str(folder / "output")
        fixture.main(["--input", str(folder), "--output", output], spark=spark)
        result = spark.read.parquet(output)
        ordered = result.orderBy(result.columns[0]).collect()
        rows = [tuple(str(v) if hasattr(v, "isoformat") else v for v in row) for row in ordered]
        return {
            "job": job,
            "rows": len(rows),
            "schema_matches": result.schema == as_nullable(fixture.output_schema),
            "values_match": rows == fixture.expected,
            "schema": result.schema.jsonValue(),
        }


class _JsonArgumentParser(argparse.ArgumentParser):
    """Usage errors are results too: one JSON object on stdout, exit 2 (the engine parses nothing else)."""

    def error(self, message: str) -> NoReturn:  # type: ignore[override]
        self.print_usage(sys.stderr)
        print(json.dumps({"error": message, "usage": True}, sort_keys=True))
        raise SystemExit(2)


def main(argv: Sequence[str] | None = None) -> int:
    parser = _JsonArgumentParser(
        prog="python -m northstar_spark.verify",
        description="Smoke-test a Spark job: in process (--job), or a packaged job PEX under spark-submit "
        "(--job-pex PATH --job NAME; see northstar_spark.verify_pex).",
    )
    parser.add_argument("--job", required=True, choices=sorted(JOBS))
    parser.add_argument("--job-pex", type=Path, help="a deployed job PEX to run under spark-submit in local mode")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds before spark-submit is killed")
    args = parser.parse_args(argv)
    if args.job_pex is not None:
        from northstar_spark import verify_pex

        try:
            report = verify_pex.run_job_pex(args.job, args.job_pex, timeout_s=args.timeout)
        except verify_pex.UsageProblem as exc:
            print(json.dumps({"job": args.job, "error": str(exc), "usage": True}, sort_keys=True))
            return 2
        print(json.dumps(report, sort_keys=True))
        return 0 if report["schema_matches"] else 1
    spark = local_session(f"verify-{args.job}")
    try:
        report = verify(args.job, spark)
    finally:
        spark.stop()
    print(json.dumps(report, sort_keys=True))
    return 0 if report["schema_matches"] and report["values_match"] else 1


if __name__ == "__main__":
    sys.exit(main())
