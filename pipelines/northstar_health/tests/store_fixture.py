"""Helpers that write a small release history through the engine's real state-store API."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from northstar_release.model import Deployment, DeploymentStatus, Release, ReleaseAction
from northstar_release.state.sqlite_store import SqliteStateStore


def deploy(store: SqliteStateStore, action: str, release: str, env: str, extra: dict[str, str] | None = None) -> None:
    with store.transaction() as tx:
        dep = tx.start_deployment(Deployment(release_id=release, env=env, status=DeploymentStatus.RUNNING, actor="ci",
                                             action=ReleaseAction(action), started_at=datetime.now(UTC)))
        tx.append_audit("ci", f"{action}.start", release, env, {"deployment_id": dep.id})
    with store.transaction() as tx:
        tx.update_deployment(dep.persisted_id(), stage=("deploy:airflow_dags:orders", datetime.now(UTC)))
        tx.append_audit("ci", f"{action}.switch", release, env, {"deployment_id": dep.id, "kind": "airflow_dags"})
    with store.transaction() as tx:
        tx.update_deployment(dep.persisted_id(), status=DeploymentStatus.SUCCEEDED, stage=("record", datetime.now(UTC)),
                             finished_at=datetime.now(UTC))
        tx.append_audit("ci", f"{action}.succeeded", release, env, {
            "deployment_id": dep.id, "gate_results": [{"gate": "verify", "target": "dags", "outcome": "passed"}],
            **(extra or {})})


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    return subprocess.run([sys.executable, "-m", "northstar_health", *args], capture_output=True, text=True, env=env,
                          timeout=300)




def two_deploys_and_a_rollback(state_dir: Path) -> None:
    """r1 and r2 deployed to prod, then r2 rolled back to r1: one failed change of two, recovered."""
    store = SqliteStateStore(state_dir / "state.db", lock_dir=state_dir / "locks")
    for rid in ("r1", "r2"):
        with store.transaction() as tx:
            tx.save_release(Release(id=rid, git_commit=rid * 20, author="dev@example.com",
                                    created_at=COMMITTED, artifacts=()))
            tx.append_audit("ci", "release.build", rid, None, {"git_commit": rid * 20})
    deploy(store, "deploy", "r1", "prod")
    deploy(store, "deploy", "r2", "prod")
    deploy(store, "rollback", "r1", "prod", {"rolled_back_from": "r2"})
    store.close()


COMMITTED = datetime(2026, 1, 1, tzinfo=UTC)
