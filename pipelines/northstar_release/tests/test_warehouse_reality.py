"""Reality first (issue 14, point 1): the engine reconciles what the SQLMesh environment REALLY serves with its state.

The reproduction: prod runs v2 (recorded, ``LIVE`` and SQLMesh agree), then a component process that survived its
killed CLI switches SQLMesh's prod back to v1's snapshots. ``LIVE`` and state still say v2. The next command must see
it (the warehouse adapter's ``current`` reads the env's snapshot set from SQLMesh state), restore the recorded v2
from its pin (``recover.switch_back`` in the audit chain) or, when v2 can no longer be restored, refuse with exit 2
naming the divergence and change nothing.

Real components only: the ``warehouse`` entry point (SQLMesh over the 5-model pilot dbt slice on DuckDB), the real
SQLite state store and audit chain, the evaluator's ``apply``. Environments: one ``prod`` with no gates, so the test
spends its time on the switch and the recovery, not on gates tested elsewhere.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from northstar_release.adapters.base import EnvContext
from northstar_release.adapters.warehouse import WarehouseAdapter, pin_name
from northstar_release.artifact_store import LocalArtifactStore
from northstar_release.build import build
from northstar_release.component_process import env_var_for
from northstar_release.environments import load_environments
from northstar_release.evaluator import Runtime, apply
from northstar_release.model import ArtifactKind, Release
from northstar_release.plan import plan_deploy, plan_rollback
from northstar_release.recovery import Diverged
from northstar_release.runner import SubprocessComponentRunner
from northstar_release.state import open_store
from northstar_release.state.reconcile import verify_state
from northstar_release.tests.fixtures_engine import NOW
from northstar_release.tests.helpers import git
from northstar_release.tests.pilot_dbt import copy_pilot_dbt
from northstar_release.tests.test_warehouse_adapter import COUNT_NEW, COUNT_OLD, MART, MART_SQL, warehouse_entrypoint
from northstar_secrets.baseline import write_baseline

ENVIRONMENTS = """environments:
  prod:
    order: 1
    promotion: automatic
    gates: []
    backend: local
"""


@dataclass
class World:
    root: Path
    repo: Path
    rt: Runtime
    runner: SubprocessComponentRunner
    adapter: WarehouseAdapter
    v1: Release
    v2: Release
    progress: list[str]

    @property
    def ctx(self) -> EnvContext:
        return self.rt.env_context("prod")

    def serve_behind_the_back(self, release: Release) -> None:
        """What a surviving component of a killed CLI does: switch prod from state to ``release``'s pin."""
        sha = release.artifacts[0].sha256
        warehouse, state = self.adapter.warehouse_paths(self.ctx)
        result = self.runner.run("warehouse", [
            "plan", "--project", str(self.adapter.project_dir(self.ctx, sha)), "--warehouse", str(warehouse),
            "--state", str(state), "--env", "prod", "--apply", "--virtual-only",
            "--from-env", f"keep_{pin_name('prod', sha)}", "--state-only"])
        assert result.exit_code == 0, result.payload
        assert result.payload["from_state"], result.payload

    def actions(self) -> list[str]:
        return [e.action for e in self.rt.store.audit_entries()]


def make_repo(root: Path) -> Path:
    """The pilot dbt slice in a git repo, with the real repository's reviewed secret-scan baseline for config.py."""
    repo = root / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    git(repo, "config", "user.email", "alice@northstar.test")
    git(repo, "config", "user.name", "alice")
    copy_pilot_dbt(repo / "dbt", "northstar_dbt", "northstar_dq")
    write_baseline([repo / "dbt" / "config.py"], repo, repo / ".secrets.baseline")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "v1")
    return repo


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    root = tmp_path_factory.mktemp("wh-reality")
    repo = make_repo(root)
    state = root / "state"
    state.mkdir()
    (root / "environments.yaml").write_text(ENVIRONMENTS)
    environ = {**os.environ, env_var_for("warehouse"): warehouse_entrypoint(),
               "DBT_SEND_ANONYMOUS_USAGE_STATS": "false", "DO_NOT_TRACK": "1"}
    runner = SubprocessComponentRunner(repo, environ=environ)
    artifacts = LocalArtifactStore(state / "artifacts")
    progress: list[str] = []

    def ctx(env: str) -> EnvContext:
        d = state / "envs" / env
        d.mkdir(parents=True, exist_ok=True)
        return EnvContext(env=env, env_dir=d, artifact_path=lambda a: artifacts.path_for(a.sha256), runner=runner)

    adapter = WarehouseAdapter()
    rt = Runtime(store=open_store(None, state), environments=load_environments(root / "environments.yaml"),
                 adapters={ArtifactKind.WAREHOUSE_PROJECT: adapter}, env_context=ctx, now=lambda: NOW,
                 progress=progress.append, repo=repo)
    v1 = build(repo, rt.store, artifacts, rt.adapters, "ci").release
    path = repo / MART_SQL
    path.write_text(path.read_text().replace(COUNT_OLD, COUNT_NEW, 1))
    git(repo, "commit", "-qam", "v2: order_count counts distinct orders")
    v2 = build(repo, rt.store, artifacts, rt.adapters, "ci", tags=(f"ack:{MART}",)).release
    yield World(root, repo, rt, runner, adapter, v1, v2, progress)


def deploy(w: World, release: Release) -> int:
    envs = w.rt.environments
    res = apply(plan_deploy(release, envs["prod"], "deploy", "ci", w.rt.store, envs, NOW), release, w.rt)
    assert res.exit_code == 0, (res.status, res.reasons, res.messages)
    return res.exit_code


def test_a_switch_behind_the_engines_back_is_seen_and_repaired_to_the_recorded_release(world: World) -> None:
    w = world
    sha1, sha2 = w.v1.artifacts[0].sha256, w.v2.artifacts[0].sha256
    deploy(w, w.v1)
    deploy(w, w.v2)
    assert w.adapter.current(w.ctx) == {"warehouse-project": sha2}  # SQLMesh serves v2's pin exactly
    v2_tables = w.adapter.tables(w.ctx)

    w.serve_behind_the_back(w.v1)
    # LIVE and state still say v2; only the SQLMesh environment knows better.
    assert w.adapter.on_disk(w.ctx) == {"warehouse-project": sha2}
    assert w.rt.store.live("prod")[("warehouse_project", "warehouse-project")][0] == sha2
    assert w.adapter.current(w.ctx) == {"warehouse-project": sha1}
    assert w.adapter.tables(w.ctx) != v2_tables  # prod's views really are v1's

    # The reproduction's next command: promote (deploy) v2 again. It must not be "nothing to do" on a lie.
    before = len(w.actions())
    deploy(w, w.v2)
    switch_backs = [e for e in w.rt.store.audit_entries()[before:] if e.action == "recover.switch_back"]
    assert [(e.payload["found_on_disk"], e.payload["restored"]) for e in switch_backs] == [(sha1, sha2)]
    assert w.adapter.current(w.ctx) == {"warehouse-project": sha2}
    assert w.adapter.tables(w.ctx) == v2_tables
    assert verify_state(w.rt.store).ok


def test_an_unrestorable_recorded_release_is_refused_naming_the_divergence(world: World) -> None:
    w = world
    sha1, sha2 = w.v1.artifacts[0].sha256, w.v2.artifacts[0].sha256
    assert w.adapter.current(w.ctx) == {"warehouse-project": sha2}  # left consistent by the test above
    w.serve_behind_the_back(w.v1)
    # v2's pin and its snapshots of the changed mart are gone (released and collected by the janitor).
    warehouse, state = w.adapter.warehouse_paths(w.ctx)
    args = ["--project", str(w.adapter.project_dir(w.ctx, sha1)), "--warehouse", str(warehouse), "--state", str(state)]
    assert w.runner.run("warehouse", ["unpin", *args, "--name", pin_name("prod", sha2)]).exit_code == 0
    assert w.runner.run("warehouse", ["janitor", *args, "--ignore-ttl"]).exit_code == 0
    live_file = (w.ctx.env_dir / "warehouse" / "LIVE").read_text()
    deployments, entries = len(w.rt.store.deployments(env="prod")), len(w.actions())

    envs = w.rt.environments
    plan = plan_rollback(envs["prod"], None, "ci", w.rt.store, envs, NOW)
    with pytest.raises(Diverged) as refused:
        apply(plan, w.rt.store.get_release(plan.release_id) or w.v1, w.rt)
    msg = refused.value.message
    assert refused.value.exit_code == 2
    assert "prod diverged" in msg and sha2[:12] in msg and w.v2.id in msg and sha1[:12] in msg and "Resolve:" in msg
    # Nothing acted: SQLMesh still serves v1, LIVE and state unchanged, no deployment or audit entry added.
    assert w.adapter.current(w.ctx) == {"warehouse-project": sha1}
    assert (w.ctx.env_dir / "warehouse" / "LIVE").read_text() == live_file
    assert len(w.rt.store.deployments(env="prod")) == deployments and len(w.actions()) == entries
    assert verify_state(w.rt.store).ok
