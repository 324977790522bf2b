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

from typing import Any

from northstar_release.adapters.warehouse import ENTRY_POINT, WarehouseAdapter
from northstar_release.gates.base import GateContext
from northstar_release.model import ArtifactKind, GateOutcome, GateResult


def summarize(payload: dict[str, Any]) -> str:
    """One line: blocked models with their failed checks, else what was compared."""
    models = payload.get("models") or []
    if payload.get("error"):
        return str(payload["error"])
    blocked = [m for m in models if m.get("status") == "blocked"]
    if blocked:
        return "; ".join(str(m.get("summary")) for m in blocked)
    if not payload.get("baseline_exists"):
        return "prod has no warehouse yet (first release): nothing to compare, passes"
    if not models:
        return "no model differs from prod"
    counts: dict[str, int] = {}
    for m in models:
        counts[str(m.get("status"))] = counts.get(str(m.get("status")), 0) + 1
    acked = [str(m.get("summary")) for m in models if m.get("status") == "acknowledged"]
    line = f"{len(models)} model(s) compared with prod: " + ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
    return line + (f"; acknowledged: {'; '.join(acked)}" if acked else "")


class DataQualityGate:
    name = "data_quality"
    description = ("write-audit-publish: the project is applied into wap_<env>; changed models and their direct "
                   "downstream are diffed with prod (row count, key uniqueness, nulls, added/removed/changed) "
                   "against dbt meta.data_quality thresholds; acknowledged by ack:MODEL[:CHECK]")

    kind = ArtifactKind.WAREHOUSE_PROJECT
    environment_dependent = True

    def evaluate(self, ctx: GateContext) -> list[GateResult]:
        artifacts = [a for a in ctx.release.artifacts if a.kind == self.kind]
        if not artifacts:
            return [GateResult(gate=self.name, target=ctx.release.id, outcome=GateOutcome.PASSED,
                               summary="release carries no warehouse project")]
        adapter = ctx.adapters.get(self.kind)
        if not isinstance(adapter, WarehouseAdapter):
            return [GateResult(gate=self.name, target=ctx.release.id, outcome=GateOutcome.FAILED,
                               summary="no warehouse adapter configured: the data-quality diff cannot run")]
        results = []
        for artifact in artifacts:
            folder = adapter.ensure_extracted(artifact, ctx.env)
            warehouse, state = adapter.warehouse_paths(ctx.env)
            args = ["dq", "--project", str(folder), "--warehouse", str(warehouse), "--state", str(state),
                    "--env", ctx.env.env]
            for ack in ctx.release.acks:
                args += ["--ack", ack]
            res = ctx.env.runner.run(ENTRY_POINT, args)
            payload = dict(res.payload)
            ok = res.exit_code == 0 and bool(payload.get("ok"))
            evidence = {k: payload.get(k) for k in ("environment", "candidate_environment", "baseline_environment",
                                                    "baseline_exists", "models", "blocked", "acknowledged",
                                                    "timings", "error")}
            evidence["acks_given"] = list(ctx.release.acks)
            results.append(GateResult(gate=self.name, target=f"{artifact.name}@{artifact.sha256[:12]}",
                                      outcome=GateOutcome.PASSED if ok else GateOutcome.FAILED,
                                      summary=summarize(payload), evidence=evidence))
        return results
