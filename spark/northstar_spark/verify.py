"""Deploy-time smoke check of a Spark job: ``python -m northstar_spark.verify --job daily_revenue [--job-pex PATH]``.

With ``--job-pex`` the packaged job PEX runs under spark-submit exactly as deployed (see ``verify_pex``); this is what
the release engine calls (the ``spark_verify`` PEX). Several ``--job-pex P --job N`` pairs (paired in order) are
verified against ONE shared Spark JVM (see ``verify_batch``) and reported as one record per job. Without
``--job-pex``, the job's source runs in this process:

Runs the job's real ``main()`` in local mode over a small built-in fixture written to a temp dir, reads the
Parquet output back and prints one JSON object on stdout (``northstar_contracts.spark.SparkVerifyReport``)::

    {"ok": bool, "job": ..., "rows": ..., "schema_matches": bool, "values_match": bool, "schema": {...}}

Exit 0 only if the schema matches the job's declared OUTPUT_SCHEMA and the values match the fixture's
expected result. Why: the release engine runs this inside the built job PEX, so it proves that the packaged
artifact (dependencies, entry point, I/O) works, not just the source tree.

Schema comparison ignores nullability: Spark reads every Parquet column back as nullable.
"""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from pyspark.sql import SparkSession

from northstar_contracts.harness import JsonArgumentParser, Outcome, UsageError, run_entrypoint
from northstar_contracts.spark import SparkVerifyReport
from northstar_spark import verify_fixtures
from northstar_spark.fixture import JobFixture, as_nullable
from northstar_spark.jobs import daily_revenue
from northstar_spark.local import local_session

__all__ = ["JOBS", "JobFixture", "as_nullable", "main", "verify", "verify_job"]


# Every registered job has a generated fixture (verify_fixtures); daily_revenue also has a hand-checked one whose
# expected values are known, which replaces its generated one.
JOBS: dict[str, JobFixture] = {
    **verify_fixtures.all_generated(),
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


def verify_job(job: str, spark: SparkSession) -> SparkVerifyReport:
    """Run ``job`` end to end on its fixture and report how its output compares to the contract."""
    fixture = JOBS[job]
    with tempfile.TemporaryDirectory(prefix=f"verify-{job}-") as tmp:
        folder = Path(tmp)
        fixture.write(folder / "input")
        fixture.main(fixture.argv(folder), spark=spark)
        result = spark.read.parquet(str(folder / "output"))
        ordered = result.orderBy(result.columns[0]).collect()
        rows = [tuple(str(v) if hasattr(v, "isoformat") else v for v in row) for row in ordered]
        schema_matches = result.schema == as_nullable(fixture.output_schema)
        values_match = fixture.expected is not None and rows == fixture.expected
        # A generated fixture has no expected values: its schema decides alone.
        return SparkVerifyReport(ok=schema_matches and (values_match or fixture.expected is None), job=job, rows=len(rows),
                                 schema_matches=schema_matches, values_match=values_match,
                                 schema=result.schema.jsonValue())


def verify(job: str, spark: SparkSession) -> dict[str, Any]:
    """:func:`verify_job` as JSON-ready data."""
    return verify_job(job, spark).to_dict()


def handle(argv: list[str]) -> Outcome:
    parser = JsonArgumentParser(
        prog="python -m northstar_spark.verify",
        description="Smoke-test Spark jobs: in process (--job), or packaged job PEXes under Spark "
        "(--job-pex PATH --job NAME, repeatable in pairs; see northstar_spark.verify_pex / verify_batch).",
    )
    parser.add_argument("--job", action="append", required=True, help="job name (repeat, paired with --job-pex)")
    parser.add_argument("--job-pex", type=Path, action="append", default=[],
                        help="a deployed job PEX to run in local mode (repeatable; n-th PEX goes with n-th --job)")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds before a job run is killed")
    args = parser.parse_args(argv)
    unknown = [j for j in args.job if j not in JOBS]
    if unknown and not args.job_pex:
        raise UsageError(f"no verification fixture for job(s) {', '.join(unknown)} (known: {', '.join(sorted(JOBS))})",
                         jobs=unknown)
    if args.job_pex:
        if len(args.job_pex) != len(args.job):
            raise UsageError(f"{len(args.job_pex)} --job-pex for {len(args.job)} --job: give them in pairs")
        if len(args.job) == 1:
            from northstar_spark import verify_pex

            return Outcome.of(verify_pex.run_job_pex(args.job[0], args.job_pex[0], JOBS, timeout_s=args.timeout))
        from northstar_spark import verify_batch

        return Outcome.of(verify_batch.run_job_pexes(list(zip(args.job, args.job_pex, strict=True)), JOBS,
                                                     timeout_s=args.timeout))
    if len(args.job) != 1:
        raise UsageError("in-process verification takes one --job")
    spark = local_session(f"verify-{args.job[0]}")
    try:
        return Outcome.of(verify_job(args.job[0], spark))
    finally:
        spark.stop()


def main(argv: Sequence[str] | None = None) -> int:
    """One JSON object on stdout (``northstar_contracts.harness``); exit 0 ok, 1 mismatch, 2 usage."""
    return run_entrypoint(handle, argv, command="verify")


if __name__ == "__main__":
    sys.exit(main())
