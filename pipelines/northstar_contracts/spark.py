"""Records of the ``spark_verify`` entry point (``northstar_spark.verify``).

* ``--job NAME`` (in process, source tree): :class:`SparkVerifyReport`.
* ``--job-pex PATH --job NAME`` (one packaged job PEX under Spark, as deployed): :class:`SparkPexVerifyReport` --
  the shape the engine's Spark adapter reads today.
* ``--job-pex P1 --job N1 --job-pex P2 --job N2 ...`` (several jobs, paired in order): :class:`SparkVerifyBatchReport`
  with one :class:`SparkPexVerifyReport` per job, all run against ONE Spark JVM (``jvm_starts``) instead of one
  spark-submit per job. Exit 0 only when every job's output matches its declared schema.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from northstar_contracts.base import Record

ENTRY_POINT = "spark_verify"


@dataclasses.dataclass(frozen=True, kw_only=True)
class SparkVerifyReport(Record):
    """The job's source run in this process on its fixture."""

    ok: bool
    job: str
    rows: int
    schema_matches: bool
    values_match: bool
    schema: dict[str, Any]


@dataclasses.dataclass(frozen=True, kw_only=True)
class SparkPexVerifyReport(Record):
    """A packaged job PEX run on its fixture; ``schema_matches`` decides, ``values_match`` is evidence only.

    ``expected_schema`` is the ``OUTPUT_SCHEMA`` declared by the code inside the PEX, ``actual_schema`` what it wrote
    (Spark JSON schemas). ``pex_sha256`` lets the caller check it verified the bytes it meant to.
    """

    ok: bool
    job: str
    pex: str
    pex_sha256: str
    mode: str  # "spark-submit" (own JVM) | "shared-jvm" (a batch's JVM)
    entry_point: str | None
    inherit_path: str | None
    spark_home: str
    java_home: str | None
    ran_copy: bool = False
    spark_submit_exit_code: int | None = None
    job_exit_code: int | None = None
    driver_python: str | None = None
    job_module_file: str | None = None
    rows: int = 0
    schema_matches: bool = False
    expected_schema: dict[str, Any] | None = None
    actual_schema: dict[str, Any] | None = None
    values_match: bool = False
    seconds: float = 0.0
    error: str | None = None
    stderr_tail: str | None = None


@dataclasses.dataclass(frozen=True, kw_only=True)
class SparkVerifyBatchReport(Record):
    ok: bool
    mode: str
    jobs: list[SparkPexVerifyReport]
    jvm_starts: int
    seconds: float
