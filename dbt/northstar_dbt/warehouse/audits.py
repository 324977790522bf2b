"""Evidence about what is built: every SQLMesh audit, and the tables of an environment (rows + checksum).

Audits run explicitly, like ``sqlmesh audit``: plans do not re-run an edited singular test (a metadata change).
"""

from __future__ import annotations

import time
from datetime import date, timedelta
from typing import Any

from northstar_contracts.harness import Refused
from northstar_contracts.warehouse import (
    AuditResult,
    TableFingerprint,
    VerifyResult,
    WarehousePlanReport,
    WarehouseTablesReport,
)
from northstar_dbt.warehouse.engine import short_name

AUDIT_START = "2024-01-01"
TABLES_PER_STATEMENT = 400  # bounds one statement's size; a bigger warehouse reads in several


def run_audits(context: Any) -> list[AuditResult]:
    """Every audit of every node (schema tests and singular tests), with per-audit results."""
    end = (date.today() + timedelta(days=1)).isoformat()
    results = []
    for snapshot in sorted(context.snapshots.values(), key=lambda s: s.name):
        for res in context.snapshot_evaluator.audit(snapshot=snapshot, start=AUDIT_START, end=end,
                                                    snapshots=context.snapshots):
            failed = bool(res.count)
            results.append(AuditResult(
                audit=res.audit.name, model=short_name(res.model.name) if res.model is not None else None,
                node=short_name(snapshot.name), status="skipped" if res.skipped else ("fail" if failed else "pass"),
                failing_rows=int(res.count or 0), blocking=bool(getattr(res, "blocking", True)),
                query=res.query.sql(dialect="duckdb")[:2000] if failed and res.query is not None else None))
    return results


def failed_names(audits: list[AuditResult]) -> list[str]:
    """``audit`` or ``audit on model`` for each failing audit."""
    return [a.audit + (f" on {a.model}" if a.model else "") for a in audits if a.status == "fail"]


def tables_of(context: Any, env: str, *, checksums: bool = True) -> WarehouseTablesReport:
    """Row count + md5 of the sorted rows of every model as ``env`` sees it (``checksums=False``: counts only)."""
    from sqlmesh.core.environment import Environment

    environment = context.state_reader.get_environment(Environment.sanitize_name(env))
    if environment is None:
        raise Refused(f"SQLMesh environment {env!r} does not exist", environment=env)
    infos = [i for i in sorted(environment.snapshots, key=lambda s: s.name) if i.is_model]
    relations = [i.qualified_view_name.for_environment(environment.naming_info, dialect="duckdb") for i in infos]
    # One statement for every model (DuckDB spreads it over its threads; 217 separate queries cost ~1 s more at
    # 214 models). Relation names come from SQLMesh state (the project's model names), not user input.
    rows: dict[int, tuple[Any, ...]] = {}
    for start in range(0, len(relations), TABLES_PER_STATEMENT):
        digest = ("md5(coalesce(string_agg(cast(t as varchar), chr(10) order by cast(t as varchar)), ''))"
                  if checksums else "null")
        part = [f"select {n} as i, count(*), {digest} from {rel} as t"  # noqa: S608
                for n, rel in enumerate(relations) if start <= n < start + TABLES_PER_STATEMENT]
        rows.update((int(r[0]), tuple(r)) for r in context.engine_adapter.fetchall(" union all ".join(part)))
    tables = {short_name(info.name): TableFingerprint(relation=rel, rows=int(rows[n][1]), checksum=rows[n][2],
                                                      fingerprint=info.fingerprint.to_identifier())
              for n, (info, rel) in enumerate(zip(infos, relations, strict=True))}
    return WarehouseTablesReport(environment=environment.name, plan_id=environment.plan_id, tables=tables)


def verify_env(context: Any, env: str, skip_audits: str | None = None) -> VerifyResult:
    """Tables + audits of ``env`` on the already loaded context; ``skip_audits`` (the reason) reads the tables only.

    Audits are skipped only after a pure virtual update (:func:`virtual_update_reason`): the environment's views
    then point at physical tables that already existed, and each of them was audited when it was built (SQLMesh runs
    the blocking audits of every interval it computes, the pre-deploy check ran every audit on a scratch build, and
    the environment it was first built in was verified with the same audits). Re-running ~500 audits over the same
    tables would only repeat those verdicts. The tables are still read: every view must resolve.
    """
    t0 = time.monotonic()
    tables = tables_of(context, env, checksums=skip_audits is None)
    audits = [] if skip_audits else run_audits(context)
    failed = failed_names(audits)
    return VerifyResult(ok=not failed, tables=tables.tables, plan_id=tables.plan_id,
                        audits_passed=sum(a.status == "pass" for a in audits), audits_failed=failed, audits=audits,
                        seconds=round(time.monotonic() - t0, 3), audits_skipped=skip_audits)


def virtual_update_reason(report: WarehousePlanReport) -> str | None:
    """Why post-apply audits need not run after this plan, or None when they must (any new snapshot or interval).

    A new snapshot without a backfill (e.g. an edited singular test: a metadata change SQLMesh does not re-run)
    still needs the audits, so "virtual" here means no new snapshot AND no computed interval.
    """
    if report.new_snapshots or report.backfill or report.rows_recomputed:
        return None
    return ("pure virtual update: no new snapshot and no interval computed; every snapshot was audited when it "
            "was built")
