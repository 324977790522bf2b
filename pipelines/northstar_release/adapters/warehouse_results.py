"""The warehouse adapter's results: the ``warehouse`` entry point's JSON turned into GateResults with their evidence.

Why a module of its own: how a component's answer becomes a verdict (what fails, what the summary says, which evidence
an auditor gets) is one job; switching and locating projects (warehouse.py) is another.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from northstar_release.adapters.base import ComponentResult, manifest_integrity
from northstar_release.model import EvidenceRef, GateOutcome, GateResult

MANIFEST = ".northstar-manifest.json"


def integrity_result(folder: Path, target: str) -> GateResult:
    """The extracted live project still has every file its manifest lists, byte for byte."""
    return manifest_integrity(folder, MANIFEST, gate="warehouse.verify", target=target, what="live project")


def reused_part(prior: GateResult, ref: EvidenceRef, key: str) -> ComponentResult:
    """A passed part of an earlier check (unit tests or audits), as the component result it summarised."""
    part = dict(prior.evidence.get(key) or {})
    if key == "unit_tests":
        part["unit_tests"] = part.pop("tests", None)
    else:
        part["audits"] = part.pop("failing", None) or []
    return ComponentResult(exit_code=0, payload=part)


def check_result(target: str, unit: ComponentResult, audit: ComponentResult, plan: ComponentResult) -> GateResult:
    u, a, p = unit.payload, audit.payload, plan.payload
    problems: list[str] = []
    if unit.exit_code != 0 or not u.get("ok"):
        problems.append(f"dbt unit tests failed: {', '.join(u.get('failed') or []) or u.get('error') or 'see evidence'}")
    if audit.exit_code != 0 or not a.get("ok"):
        problems.append(f"SQLMesh audits failed: {', '.join(a.get('failed') or []) or a.get('build_error') or a.get('error')}")
    if plan.exit_code != 0:
        problems.append(f"plan failed: {p.get('error')}")
    elif p.get("missing_ack"):
        problems.append(f"acknowledgement required (release tag ack:<model>) for: {', '.join(p['missing_ack'])} "
                        f"-- breaking change to a finance model or forward-only change")
    changed = {k: v for k, v in (p.get("categories") or {}).items()}
    if problems:
        summary = " | ".join(problems)
    else:
        summary = (f"{u.get('passed', 0)} unit test(s) and {a.get('passed', 0)} audit(s) pass; plan: "
                   + (", ".join(f"{k}={v}" for k, v in sorted(changed.items())) or "no changes")
                   + (f"; acknowledged {', '.join(p.get('acknowledged') or [])}" if p.get("acknowledged") else ""))
    evidence = {
        "unit_tests": {"ok": u.get("ok"), "passed": u.get("passed"), "failed": u.get("failed"),
                       "tests": u.get("unit_tests"), "error": u.get("error")},
        "audits": {"ok": a.get("ok"), "passed": a.get("passed"), "failed": a.get("failed"),
                   "failing": [x for x in a.get("audits") or [] if x.get("status") == "fail"],
                   "build_error": a.get("build_error"), "error": a.get("error")},
        "plan": {k: p.get(k) for k in ("environment", "categories", "backfill", "needs_ack", "missing_ack",
                                       "acknowledged", "virtual_update", "new_snapshots", "error")},
    }
    for name, r in (("unit_tests", unit), ("audits", audit), ("plan", plan)):
        if r.exit_code != 0 and r.stderr_tail:
            evidence[name]["stderr_tail"] = r.stderr_tail[-1500:]
    return GateResult(gate="warehouse.check", target=target,
                      outcome=GateOutcome.FAILED if problems else GateOutcome.PASSED, summary=summary,
                      evidence=evidence)


def verify_result(target: str, payload: dict[str, Any], source: str) -> GateResult:
    failed = payload.get("audits_failed") or []
    tables = payload.get("tables") or {}
    ok = bool(payload.get("ok")) and not failed and bool(tables)
    if ok:
        summary = f"{len(tables)} model(s) readable, {payload.get('audits_passed', 0)} audit(s) pass"
    else:
        summary = ("audits failed: " + ", ".join(failed)) if failed else (payload.get("error") or "no tables")
    evidence = {"source": source, "tables": tables, "plan_id": payload.get("plan_id"),
                "audits_passed": payload.get("audits_passed"), "audits_failed": failed,
                "pins": payload.get("pins")}
    return GateResult(gate="warehouse.verify", target=target,
                      outcome=GateOutcome.PASSED if ok else GateOutcome.FAILED, summary=summary, evidence=evidence)
