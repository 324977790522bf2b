"""Verify several Spark job PEXes in ONE ``spark_verify`` process (one Spark JVM) and judge each job on its own.

Why: a JVM start plus Spark's class loading costs seconds per job, and a first release ships every job (20 today);
one ``spark_verify`` per job made a deployment start one JVM per job. ``spark_verify`` accepts several
``--job-pex PATH --job NAME`` pairs and runs them all on one shared JVM (``northstar_spark.verify_batch``), printing
one typed record per job (``northstar_contracts.spark.SparkVerifyBatchReport``); a single pair keeps its own
spark-submit (``SparkPexVerifyReport``). This module builds that one call and turns the answer back into one
``GateResult`` per job, so the evidence stays per job and a failing job is named alone: the other jobs of the batch
pass or fail on their own records.

A job is judged PASSED only when its record says the output matches the schema the code inside the PEX declares
*and* the record's ``pex_sha256`` is the digest the caller meant to verify (the bytes the pointer or the store
names). A job the answer has no record for fails (a verifier that skipped a job must not look like it passed).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from northstar_contracts.base import ContractError, ErrorKind, ErrorRecord, parse_result
from northstar_contracts.spark import ENTRY_POINT, SparkPexVerifyReport, SparkVerifyBatchReport
from northstar_release.adapters.base import ComponentResult, ComponentRunner
from northstar_release.model import GateOutcome, GateResult

STDERR_EVIDENCE = 2000


@dataclass(frozen=True)
class JobRun:
    """One job of a batch: its name, the PEX file to run and the digest that file must have."""

    job: str
    pex: Path
    sha256: str


def verify_jobs(runner: ComponentRunner, runs: Sequence[JobRun], gate: str) -> list[GateResult]:
    """Run every job of ``runs`` in one ``spark_verify`` process; one GateResult per job, in the order given.

    A job whose PEX file is missing is not passed to the verifier (it fails here, naming the file); the others still
    run. With no runnable job, no process is started."""
    results: dict[str, GateResult] = {}
    runnable = []
    for run in runs:
        if run.pex.is_file():
            runnable.append(run)
        else:
            results[run.job] = GateResult(gate=gate, target=_target(run), outcome=GateOutcome.FAILED,
                                          summary=f"{run.job}: PEX {run.pex} is missing (expected sha256 "
                                                  f"{run.sha256[:12]})", evidence={"job": run.job, "pex": str(run.pex)})
    if runnable:
        args: list[str] = []
        for run in runnable:
            args += ["--job-pex", str(run.pex), "--job", run.job]
        results.update(_judge(runnable, runner.run(ENTRY_POINT, args), gate))
    return [results[run.job] for run in runs]


def _judge(runs: Sequence[JobRun], result: ComponentResult, gate: str) -> dict[str, GateResult]:
    """The verifier's answer -> one GateResult per job (a record per job, or the error that stopped the batch)."""
    try:
        records = _records(result.payload, several=len(runs) > 1)
    except ContractError as exc:
        records = ErrorRecord(kind=ErrorKind.INTERNAL, error=f"unreadable spark_verify output: {exc}")
    if isinstance(records, ErrorRecord):
        return {run.job: _failed(run, gate, f"{run.job}: spark_verify stopped before reporting: {records.error}",
                                 {"error": records.to_dict(), "stderr_tail": result.stderr_tail[-STDERR_EVIDENCE:]})
                for run in runs}
    by_job = {record.job: record for record in records}
    return {run.job: (_job_result(run, by_job[run.job], result.stderr_tail, gate) if run.job in by_job else
                      _failed(run, gate, f"{run.job}: spark_verify returned no record for this job",
                              {"jobs_reported": sorted(by_job)}))
            for run in runs}


def _records(payload: dict[str, Any], several: bool) -> list[SparkPexVerifyReport] | ErrorRecord:
    if several:
        batch = parse_result(SparkVerifyBatchReport, payload)
        return batch if isinstance(batch, ErrorRecord) else list(batch.jobs)
    single = parse_result(SparkPexVerifyReport, payload)
    return single if isinstance(single, ErrorRecord) else [single]


def _job_result(run: JobRun, record: SparkPexVerifyReport, stderr_tail: str, gate: str) -> GateResult:
    evidence = record.to_dict()
    sha_ok = record.pex_sha256 == run.sha256
    ok = record.schema_matches and sha_ok and record.ok
    if ok:
        summary = (f"{run.job}: {record.mode} local run OK, {record.rows} row(s), output matches the declared "
                   f"schema ({record.seconds}s)")
    elif not sha_ok:
        summary = f"{run.job}: verified PEX has sha256 {record.pex_sha256[:12]}, expected {run.sha256[:12]}"
    elif record.error and record.actual_schema is None:
        summary = f"{run.job}: {record.error}"
    else:
        summary = (f"{run.job}: output schema {_fields(record.actual_schema)} does not match the declared schema "
                   f"{_fields(record.expected_schema)}")
    if not ok and not record.stderr_tail and stderr_tail:
        evidence["stderr_tail"] = stderr_tail[-STDERR_EVIDENCE:]  # the batch's stderr: this job's own tail is absent
    return GateResult(gate=gate, target=_target(run), outcome=GateOutcome.PASSED if ok else GateOutcome.FAILED,
                      summary=summary, evidence=evidence)


def _fields(schema: dict[str, Any] | None) -> list[str]:
    return [f"{f['name']}:{f['type']}" for f in (schema or {}).get("fields", [])]


def _failed(run: JobRun, gate: str, summary: str, evidence: dict[str, Any]) -> GateResult:
    return GateResult(gate=gate, target=_target(run), outcome=GateOutcome.FAILED, summary=summary,
                      evidence={"job": run.job, "pex": str(run.pex), **evidence})


def _target(run: JobRun) -> str:
    return f"{run.job}@{run.sha256[:12]}"
