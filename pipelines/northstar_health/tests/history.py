"""A scripted release history as real, hash-chained AuditEntry records (shared by the DORA, metrics and HTML tests).

Every figure the tests expect from it is hand-computed in test_dora.py from the times below.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from northstar_release.audit import GENESIS, compute_hash
from northstar_release.model import AuditEntry

SINCE = datetime(2026, 11, 1, tzinfo=UTC)
UNTIL = datetime(2026, 11, 11, tzinfo=UTC)


def t(day: int, hour: int, minute: int = 0, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


# Commit times known from release records (r6 has none: its release.build entry time is used).
COMMIT_TIMES = {"r0": t(19, 0, month=10), "r1": t(1, 0), "r2": t(2, 0), "r3": t(3, 0), "r4": t(4, 0), "r5": t(5, 0)}

PASS_DAG = {"gate": "dag_integrity", "target": "dags", "outcome": "passed"}
FAIL_DAG = {"gate": "dag_integrity", "target": "dags", "outcome": "failed"}
PASS_SCHEMA = {"gate": "schema", "target": "orders", "outcome": "passed"}
PASS_VERIFY = {"gate": "verify", "target": "dags", "outcome": "passed"}
FAIL_VERIFY = {"gate": "verify", "target": "dags", "outcome": "failed"}


def _events() -> list[tuple[datetime, str, str | None, str | None, dict[str, Any]]]:
    ev: list[tuple[datetime, str, str | None, str | None, dict[str, Any]]] = []
    for rid, commit in COMMIT_TIMES.items():
        ev.append((commit.replace(minute=5), "release.build", rid, None, {"git_commit": rid * 8}))
    ev.append((t(6, 3, 30), "release.build", "r6", None, {"git_commit": "r6" * 8}))

    def run(dep: int, action: str, rid: str, env: str, start: datetime, switch: datetime | None, end: datetime,
            outcome: str, gates: list[dict[str, Any]], **extra: Any) -> None:
        ev.append((start, f"{action}.start", rid, env, {"deployment_id": dep}))
        if switch is not None:
            ev.append((switch, f"{action}.switch", rid, env, {"deployment_id": dep, "kind": "airflow_dags"}))
        ev.append((end, f"{action}.{outcome}", rid, env, {"deployment_id": dep, "gate_results": gates, **extra}))

    run(1, "deploy", "r0", "prod", t(20, 10, month=10), t(20, 10, 1, month=10), t(20, 10, 2, month=10), "succeeded",
        [PASS_DAG])  # before the window
    run(2, "deploy", "r1", "staging", t(1, 8), t(1, 8, 30), t(1, 9), "succeeded", [PASS_DAG])
    run(3, "deploy", "r1", "prod", t(1, 10), t(1, 10, 5), t(1, 10, 10), "succeeded", [PASS_DAG, PASS_VERIFY])
    run(4, "deploy", "r2", "prod", t(2, 12), None, t(2, 12, 2), "blocked", [FAIL_DAG, PASS_SCHEMA])
    run(5, "deploy", "r3", "prod", t(3, 8), t(3, 8, 1), t(3, 8, 3), "failed", [FAIL_VERIFY])
    run(6, "deploy", "r4", "prod", t(4, 6), t(4, 6, 1), t(4, 6, 2), "succeeded", [PASS_DAG, PASS_VERIFY])
    run(7, "rollback", "r1", "prod", t(4, 7), t(4, 7, 5), t(4, 7, 12), "succeeded", [PASS_VERIFY], rolled_back_from="r4")
    run(8, "promote", "r5", "prod", t(6, 0), t(6, 0, 1), t(6, 0, 30), "succeeded", [PASS_DAG, PASS_VERIFY])
    ev.append((t(6, 3), "health.regression", "r5", "prod", {"pipeline": "orders_hourly", "metric": "failure_rate"}))
    run(9, "deploy", "r6", "prod", t(6, 3, 50), t(6, 3, 55), t(6, 4), "succeeded", [PASS_DAG, PASS_VERIFY])
    return sorted(ev, key=lambda e: e[0])


def scripted_chain() -> list[AuditEntry]:
    entries, prev = [], GENESIS
    for seq, (at, action, rid, env, payload) in enumerate(_events(), start=1):
        digest = compute_hash(seq=seq, at=at, actor="ci", action=action, release_id=rid, env=env, payload=payload,
                              prev_hash=prev)
        entries.append(AuditEntry(seq=seq, at=at, actor="ci", action=action, release_id=rid, env=env, payload=payload,
                                  prev_hash=prev, hash=digest))
        prev = digest
    return entries
