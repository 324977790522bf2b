"""contract: every dbt model with ``contract: {enforced: true}`` holds its contract in the candidate environment, and
no column the target environment serves today is removed or retyped unless the model is versioned or the release
acknowledges it.

Why a gate of its own: SQLMesh, which builds the dbt project here, ignores dbt contracts (a retyped or extra column
is accepted silently). The warehouse entry point's ``contracts`` subcommand (dbt resolve) applies the project into
``wap_<env>`` (the env's staging branch, as the data-quality gate does; nothing the env serves changes) and checks,
per contracted model, the declared column names, order, sqlglot-normalized types (DuckDB; the Snowflake rendering is
in the evidence) and the constraints dbt enforces (not_null, unique, primary_key). It also compares each model with
what the env's live release serves (its SQLMesh environment). This gate then names, for each removed or retyped
column, its downstream consumers from ``northstar_lineage`` at the release's commit: the models that ``ref()`` it
and use that column (column-level lineage with sqlglot over the rendered SQL), DAG files whose SQL reads it, and the
DAGs that run it.

An intended breaking change passes with the release's acknowledgement (``./release build --ack-breaking MODEL``,
or ``MODEL:contract``): a tag of the release, so it is in the release record and in this gate's audited evidence.
A contract *violation* (the build does not match its own YAML) is never acknowledgeable: fix the SQL or the YAML.
Environment-dependent: what the env serves moves.
"""

from __future__ import annotations

from typing import Any

from northstar_contracts.warehouse_contract import ContractModelResult, WarehouseContractReport
from northstar_release.adapters.warehouse import ENTRY_POINT
from northstar_release.gates.base import GateContext
from northstar_release.gates.consumer_lookup import index_for
from northstar_release.gates.warehouse_input import entry_args, status_counts, warehouse_input
from northstar_release.model import ArtifactKind, GateOutcome, GateResult
from northstar_release.runner import call

EVIDENCE_FIELDS = ("environment", "candidate_environment", "baseline_environment", "baseline_exists", "violations",
                   "breaking", "acknowledged", "timings", "error")


def _consumers(ctx: GateContext, models: list[ContractModelResult]) -> tuple[dict[str, dict[str, list[str]]], str | None]:
    """model -> column -> consumer descriptions, for every removed/retyped column of ``models``."""
    broken = [m for m in models if m.breaking]
    if not broken:
        return {}, None
    index, why = index_for(ctx)
    if index is None:
        return {}, why
    out: dict[str, dict[str, list[str]]] = {}
    for model in broken:
        served = {b.column: b.old_type for b in model.breaking} | {c.name: c.actual or "" for c in model.columns}
        consumers = index.model_consumers(model.model, served)
        per_column = out.setdefault(model.model, {})
        for change in model.breaking:
            per_column[change.column] = [c.describe(change.column) for c in consumers
                                         if c.columns != () and c.uses(change.column)]
            runners = [f"dag {c.name} (runs the model)" for c in consumers if c.columns == ()]
            per_column[change.column] += runners
    return out, None


def summarize(report: WarehouseContractReport, consumers: dict[str, dict[str, list[str]]], note: str | None) -> str:
    if report.error:
        return report.error
    lines = []
    for m in report.models:
        if m.status == "violation":
            lines.append(m.summary)
        elif m.status == "breaking":
            parts = []
            for b in m.breaking:
                change = (f"{b.column} removed (was {b.old_type})" if b.change == "removed"
                          else f"{b.column} retyped {b.old_type} -> {b.new_type}")
                who = consumers.get(m.model, {}).get(b.column)
                parts.append(change + (f"; consumers: {', '.join(who)}" if who else
                                       "; consumers: none found" if who is not None else f"; {note}"))
            lines.append(f"{m.model} breaking contract change against {m.served_relation}: " + "; ".join(parts) +
                         f" -- version the model or acknowledge with --ack-breaking {m.model}")
    if lines:
        return " | ".join(lines)
    acked = [m.summary for m in report.models if m.status in ("acknowledged", "versioned")]
    line = f"{len(report.models)} contracted model(s) hold their contract in {report.candidate_environment}: " + \
        status_counts(m.status for m in report.models)
    return line + (f"; {'; '.join(acked)}" if acked else "")


class ContractGate:
    name = "contract"
    description = ("enforced dbt contracts hold in wap_<env> (columns, order, types for DuckDB/Snowflake, not_null/"
                   "unique/primary_key); a removed/retyped served column blocks, naming its consumers, unless the "
                   "model is versioned or acknowledged (ack:MODEL[:contract])")

    kind = ArtifactKind.WAREHOUSE_PROJECT
    environment_dependent = True

    def evaluate(self, ctx: GateContext) -> list[GateResult]:
        got = warehouse_input(ctx, self.name, "the contract check")
        if isinstance(got, list):
            return got
        results = []
        for artifact in got.artifacts:
            args = entry_args("contracts", ctx, got, artifact)
            reported = call(ctx.env.runner, ENTRY_POINT, args, WarehouseContractReport, subcommand="contracts")
            report = reported.result
            ok = reported.exit_code == 0 and report is not None and report.ok
            evidence: dict[str, Any]
            if report is not None:
                consumers, note = _consumers(ctx, report.models)
                data = report.to_dict()
                evidence = {k: data.get(k) for k in EVIDENCE_FIELDS}
                evidence["models"] = [m for m in data["models"] if m["status"] != "pass" or m["problems"]]
                evidence["checked"] = len(report.models)
                evidence["consumers"] = consumers
                evidence["consumers_note"] = note
                summary = summarize(report, consumers, note)
            else:
                evidence = {k: None for k in EVIDENCE_FIELDS} | {"error": reported.error}
                summary = str(reported.error)
            evidence["acks_given"] = list(ctx.release.acks)
            results.append(GateResult(gate=self.name, target=f"{artifact.name}@{artifact.sha256[:12]}",
                                      outcome=GateOutcome.PASSED if ok else GateOutcome.FAILED,
                                      summary=summary, evidence=evidence))
        return results
