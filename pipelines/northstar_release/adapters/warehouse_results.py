"""The warehouse adapter's results: the ``warehouse`` entry point's records turned into GateResults with evidence.

Why a module of its own: how a component's answer becomes a verdict (what fails, what the summary says, which evidence
an auditor gets) is one job; switching and locating projects (warehouse.py) is another. Every input is a typed record
of ``northstar_contracts.warehouse`` (parsed by ``runner.call``); the evidence dicts built here are the engine's own
audit evidence, and a reused part of a check is read back from that evidence, never from an entry point's JSON.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from northstar_contracts.warehouse import (
    VerifyResult,
    WarehouseAuditReport,
    WarehouseCheckReport,
    WarehousePlanReport,
    WarehouseUnitTestReport,
)
from northstar_release.adapters.base import Reported, manifest_integrity
from northstar_release.model import EvidenceRef, GateOutcome, GateResult

MANIFEST = ".northstar-manifest.json"
PLAN_EVIDENCE = ("environment", "categories", "backfill", "needs_ack", "missing_ack", "acknowledged",
                 "virtual_update", "new_snapshots", "error", "from_state", "state_fallback")


def integrity_result(folder: Path, target: str) -> GateResult:
    """The extracted live project still has every file its manifest lists, byte for byte."""
    return manifest_integrity(folder, MANIFEST, gate="warehouse.verify", target=target, what="live project")


def unit_evidence(report: WarehouseUnitTestReport) -> dict[str, Any]:
    return {"ok": report.ok, "passed": report.passed, "failed": report.failed,
            "tests": [t.to_dict() for t in report.unit_tests], "error": report.error}


def audit_evidence(report: WarehouseAuditReport) -> dict[str, Any]:
    return {"ok": report.ok, "passed": report.passed, "failed": report.failed,
            "failing": [a.to_dict() for a in report.audits if a.status == "fail"],
            "build_error": report.build_error, "error": None}


def reused_parts(prior: GateResult) -> tuple[dict[str, Any], dict[str, Any]]:
    """The unit-test and audit evidence of an earlier passed check of the same digest (the engine's own evidence)."""
    return dict(prior.evidence["unit_tests"]), dict(prior.evidence["audits"])


def full_check_result(target: str, reported: Reported[WarehouseCheckReport]) -> GateResult:
    """The ``check`` subcommand's record (unit tests + scratch audits + a non-applying plan) as the gate verdict."""
    report = reported.result
    if report is None:
        return GateResult(gate="warehouse.check", target=target, outcome=GateOutcome.FAILED,
                          summary=f"warehouse check failed: {reported.error}",
                          evidence={"error": reported.record.to_dict(), "stderr_tail": reported.stderr_tail[-1500:]})
    return check_result(target, unit_evidence(report.unit_test), audit_evidence(report.audit),
                        Reported(entry_point=reported.entry_point, subcommand="plan", exit_code=reported.exit_code,
                                 record=report.plan, stderr_tail=reported.stderr_tail))


def plan_summary(categories: dict[str, str], named: int = 8) -> str:
    """``categories`` (model -> change category) as one line: a count per category, naming at most ``named`` models
    of each (a first release's 260 ``added`` models made a progress line of 9,000 characters). The evidence keeps the
    whole mapping."""
    if not categories:
        return "no changes"
    by_category: dict[str, list[str]] = {}
    for model, category in sorted(categories.items()):
        by_category.setdefault(category, []).append(model)
    parts = []
    for category, models in sorted(by_category.items(), key=lambda kv: (kv[0] == "added", kv[0])):  # changes first
        shown = ", ".join(models[:named]) + (f", ... {len(models) - named} more" if len(models) > named else "")
        parts.append(f"{len(models)} {category} ({shown})")
    return "; ".join(parts)


def check_result(target: str, unit: dict[str, Any], audit: dict[str, Any],
                 plan: Reported[WarehousePlanReport]) -> GateResult:
    """Unit-test and audit evidence (run now or reused) and the plan into the env -> the gate verdict."""
    problems: list[str] = []
    if not unit["ok"]:
        problems.append(f"dbt unit tests failed: {', '.join(unit['failed']) or unit['error'] or 'see evidence'}")
    if not audit["ok"]:
        problems.append(f"SQLMesh audits failed: {', '.join(audit['failed']) or audit['build_error'] or audit['error']}")
    p = plan.result
    if p is None or not p.ok:
        problems.append(f"plan failed: {plan.error if p is None else p.error}")
    elif p.missing_ack:
        problems.append(f"acknowledgement required (release tag ack:<model>) for: {', '.join(p.missing_ack)} "
                        f"-- breaking change to a finance model or forward-only change")
    if problems:
        summary = " | ".join(problems)
    else:
        assert p is not None
        summary = (f"{unit['passed']} unit test(s) and {audit['passed']} audit(s) pass; plan: "
                   + plan_summary(p.categories)
                   + (f"; acknowledged {', '.join(p.acknowledged)}" if p.acknowledged else ""))
    plan_doc = plan.record.to_dict()
    evidence: dict[str, Any] = {
        "unit_tests": unit, "audits": audit,
        "plan": {k: plan_doc.get(k) for k in PLAN_EVIDENCE},  # an ErrorRecord carries only ``error`` of these
    }
    if problems and plan.stderr_tail:
        evidence["stderr_tail"] = plan.stderr_tail[-1500:]
    return GateResult(gate="warehouse.check", target=target,
                      outcome=GateOutcome.FAILED if problems else GateOutcome.PASSED, summary=summary,
                      evidence=evidence)


def verify_result(target: str, verified: VerifyResult | None, error: str | None, source: str) -> GateResult:
    """Tables + audits of the live env (post-apply or the ``verify`` subcommand) -> the verification verdict."""
    if verified is None:
        return GateResult(gate="warehouse.verify", target=target, outcome=GateOutcome.FAILED,
                          summary=error or "no verification result",
                          evidence={"source": source, "tables": {}, "plan_id": None, "audits_passed": None,
                                    "audits_failed": [error] if error else [], "pins": None})
    failed, tables = verified.audits_failed, verified.tables
    ok = verified.ok and not failed and bool(tables)
    if ok and verified.audits_skipped:
        summary = f"{len(tables)} model(s) readable; audits not re-run ({verified.audits_skipped})"
    elif ok:
        summary = f"{len(tables)} model(s) readable, {verified.audits_passed} audit(s) pass"
    else:
        summary = ("audits failed: " + ", ".join(failed)) if failed else "no tables"
    evidence = {"source": source, "tables": {k: t.to_dict() for k, t in tables.items()}, "plan_id": verified.plan_id,
                "audits_passed": verified.audits_passed, "audits_failed": failed,
                "audits_skipped": verified.audits_skipped,
                "pins": verified.pins.to_dict() if verified.pins is not None else None}
    return GateResult(gate="warehouse.verify", target=target,
                      outcome=GateOutcome.PASSED if ok else GateOutcome.FAILED, summary=summary, evidence=evidence)


def reused_summary(result: GateResult, ref: EvidenceRef, env: str) -> GateResult:
    """Say, in the summary and the evidence, which parts of ``result`` were carried over from ``ref``."""
    return result.model_copy(update={
        "summary": f"{result.summary} (unit tests and audits of this digest reused from {ref.env} deployment "
                   f"#{ref.deployment_id}, audit seq {ref.audit_seq}; plan into {env} ran now)",
        "evidence": {**result.evidence, "reused": {"parts": ["unit_tests", "audits"],
                                                   "from": ref.model_dump(mode="json")}}})
