"""data_quality: write-audit-publish -- a release's warehouse project is written into the env's staging branch and
each changed model and its direct downstream is compared with prod before the env may serve it.

Runs the warehouse entry point's ``dq`` subcommand (dbt resolve; ``northstar_dq`` does the diff on DuckDB): the
project is applied into the SQLMesh environment ``wap_<env>`` (so the deploy that follows is a virtual update of the
same snapshots, and the views ``<env>`` serves are untouched when this blocks), then row-count delta, key uniqueness,
null rate per column and rows added/removed/changed are judged against the thresholds the dbt project declares
(``meta.data_quality``, per-layer defaults). The evidence keeps the numbers and sample rows (PII columns masked).

An intended change passes with the release's acknowledgement (``./release build --ack-breaking MODEL`` or
``MODEL:CHECK``): it is a tag of the release, so it is in the release record and in this gate's audited evidence.
A model prod does not have yet (first release) passes and says so. Environment-dependent: prod moves, so the
comparison is made again on every entry.
"""

from __future__ import annotations

from northstar_contracts.warehouse import WarehouseDqReport
from northstar_release.adapters.warehouse import ENTRY_POINT
from northstar_release.adapters.warehouse_pins import state_sources
from northstar_release.gates.base import GateContext
from northstar_release.gates.warehouse_input import entry_args, status_counts, warehouse_input
from northstar_release.model import ArtifactKind, GateOutcome, GateResult
from northstar_release.runner import call

EVIDENCE_FIELDS = ("environment", "candidate_environment", "baseline_environment", "baseline_exists", "models",
                   "blocked", "acknowledged", "timings", "error")


def summarize(report: WarehouseDqReport) -> str:
    """One line: blocked models with their failed checks, else what was compared."""
    if report.error:
        return report.error
    blocked = [m for m in report.models if m.status == "blocked"]
    if blocked:
        return "; ".join(m.summary for m in blocked)
    if not report.baseline_exists:
        return "prod has no warehouse yet (first release): nothing to compare, passes"
    if not report.models:
        return "no model differs from prod"
    acked = [m.summary for m in report.models if m.status == "acknowledged"]
    line = f"{len(report.models)} model(s) compared with prod: " + status_counts(m.status for m in report.models)
    return line + (f"; acknowledged: {'; '.join(acked)}" if acked else "")


class DataQualityGate:
    name = "data_quality"
    description = ("write-audit-publish: the project is applied into wap_<env>; changed models and their direct "
                   "downstream are diffed with prod (row count, key uniqueness, nulls, added/removed/changed) "
                   "against dbt meta.data_quality thresholds; acknowledged by ack:MODEL[:CHECK]")

    kind = ArtifactKind.WAREHOUSE_PROJECT
    environment_dependent = True

    def evaluate(self, ctx: GateContext) -> list[GateResult]:
        got = warehouse_input(ctx, self.name, "the data-quality diff")
        if isinstance(got, list):
            return got
        results = []
        for artifact in got.artifacts:
            args = entry_args("dq", ctx, got, artifact)
            # A digest a verified env pinned: wap_<env> is written from SQLMesh state (no project load).
            args += state_sources(ctx.env.env_dir, artifact.sha256)
            reported = call(ctx.env.runner, ENTRY_POINT, args, WarehouseDqReport, subcommand="dq")
            report = reported.result
            ok = reported.exit_code == 0 and report is not None and report.ok
            if report is not None:
                data = report.to_dict()
                evidence = {k: data.get(k) for k in EVIDENCE_FIELDS}
                summary = summarize(report)
            else:
                evidence = {k: None for k in EVIDENCE_FIELDS} | {"error": reported.error}
                summary = str(reported.error)
            evidence["acks_given"] = list(ctx.release.acks)
            results.append(GateResult(gate=self.name, target=f"{artifact.name}@{artifact.sha256[:12]}",
                                      outcome=GateOutcome.PASSED if ok else GateOutcome.FAILED,
                                      summary=summary, evidence=evidence))
        return results
