"""Evaluator: blocked leaves the env unchanged; verify failure switches back; idempotent no-op; crash recovery."""

from __future__ import annotations

from pathlib import Path

import pytest

from northstar_release.evaluator import apply
from northstar_release.model import Deployment, DeploymentStatus
from northstar_release.plan import plan_deploy, plan_rollback
from northstar_release.state.base import LockHeld
from northstar_release.tests.fixtures_engine import NOW, Engine, make_engine
from northstar_release.tests.helpers import GOOD_DAG, commit, make_repo


@pytest.fixture
def eng(tmp_path: Path) -> Engine:
    return make_engine(tmp_path, make_repo(tmp_path))


def deploy(eng: Engine, release, env: str, action: str = "deploy", actor: str = "ci"):
    envs = eng.rt.environments
    plan = plan_deploy(release, envs[env], action, actor, eng.rt.store, envs, NOW)
    return apply(plan, release, eng.rt)


def second_release(eng: Engine, version: int = 2):
    (eng.repo / "airflow" / "dags" / "sales_daily.py").write_text(GOOD_DAG.format(dag_id="sales_daily", version=version))
    commit(eng.repo, f"v{version}")
    return eng.build()


def test_deploy_records_stages_gates_and_live(eng: Engine) -> None:
    rel = eng.build()
    res = deploy(eng, rel, "dev")
    assert res.status == "succeeded" and res.exit_code == 0
    dep = eng.rt.store.deployments(env="dev")[0]
    assert dep.status == DeploymentStatus.SUCCEEDED
    assert {"gate:dag_integrity", "verify", "record"} <= set(dep.stages)
    # Every gate dev's configuration lists, in order, then the bundle's verify.
    assert [g.gate for g in eng.rt.store.gate_results(dep.persisted_id())] == [
        *eng.rt.environments["dev"].gates, "dag_bundle.verify"]
    assert eng.rt.store.live("dev")[("dag_bundle", "airflow-dags")] == (rel.artifacts[0].sha256, rel.id)
    assert eng.live_link("dev") == rel.artifacts[0].sha256
    actions = [e.action for e in eng.rt.store.audit_entries()]
    assert actions == ["release.build", "deploy.start", "deploy.switch", "deploy.succeeded"]


def test_idempotent_noop(eng: Engine) -> None:
    rel = eng.build()
    deploy(eng, rel, "dev")
    n = len(eng.rt.store.audit_entries())
    res = deploy(eng, rel, "dev")
    assert res.status == "noop" and res.exit_code == 0
    assert len(eng.rt.store.audit_entries()) == n
    assert len(eng.rt.store.deployments(env="dev")) == 1


def test_gate_failure_blocks_without_touching_env(eng: Engine) -> None:
    rel1 = eng.build()
    deploy(eng, rel1, "dev")
    rel2 = second_release(eng)
    eng.runner.fail_when = {"dag-bundle-check-": "SyntaxError"}
    res = deploy(eng, rel2, "dev")
    assert res.status == "blocked" and res.exit_code == 1
    assert eng.live_link("dev") == rel1.artifacts[0].sha256
    assert not (eng.root / "state" / "envs" / "dev" / "dag_bundles" / rel2.artifacts[0].sha256).exists()
    assert eng.rt.store.deployments(env="dev")[0].status == DeploymentStatus.BLOCKED


def test_verify_failure_switches_back(eng: Engine) -> None:
    rel1 = eng.build()
    deploy(eng, rel1, "dev")
    rel2 = second_release(eng)
    eng.runner.fail_when = {"/envs/dev/dags": "boom once live"}
    res = deploy(eng, rel2, "dev")
    assert res.status == "failed" and res.exit_code == 1
    assert eng.live_link("dev") == rel1.artifacts[0].sha256
    assert eng.rt.store.live("dev")[("dag_bundle", "airflow-dags")][1] == rel1.id
    assert eng.rt.store.audit_entries()[-1].action == "deploy.failed"


def test_first_deploy_verify_failure_clears_link(eng: Engine) -> None:
    rel = eng.build()
    eng.runner.fail_when = {"/envs/dev/dags": "boom"}
    res = deploy(eng, rel, "dev")
    assert res.status == "failed" and eng.live_link("dev") is None and eng.rt.store.live("dev") == {}


def test_running_deployment_of_dead_process_is_recovered(eng: Engine) -> None:
    rel = eng.build()
    with eng.rt.store.transaction() as tx:
        stale = tx.start_deployment(Deployment(release_id=rel.id, env="dev", status=DeploymentStatus.RUNNING,
                                               actor="ci", started_at=NOW))
    res = deploy(eng, rel, "dev")
    assert res.status == "succeeded" and res.recovered == [stale.id]
    old = next(d for d in eng.rt.store.deployments(env="dev") if d.id == stale.id)
    assert old.status == DeploymentStatus.FAILED and "abandoned" in old.reason
    assert "deploy.abandoned" in [e.action for e in eng.rt.store.audit_entries()]


def test_lock_held_raises(eng: Engine) -> None:
    rel = eng.build()
    envs = eng.rt.environments
    plan = plan_deploy(rel, envs["dev"], "deploy", "ci", eng.rt.store, envs, NOW)
    import multiprocessing as mp

    ready, done = mp.Event(), mp.Event()

    def hold() -> None:
        from northstar_release.state import open_store

        with open_store(None, eng.root / "state").env_lock("dev"):
            ready.set()
            done.wait(30)

    p = mp.get_context("fork").Process(target=hold)
    p.start()
    try:
        assert ready.wait(10)
        with pytest.raises(LockHeld):
            apply(plan, rel, eng.rt)
    finally:
        done.set()
        p.join()


def test_rollback_to_last_known_good_skips_gates(eng: Engine) -> None:
    rel1 = eng.build()
    deploy(eng, rel1, "dev")
    rel2 = second_release(eng)
    deploy(eng, rel2, "dev")
    eng.runner.calls.clear()
    envs = eng.rt.environments
    plan = plan_rollback(envs["dev"], None, "oncall", eng.rt.store, envs, NOW, reason="bad numbers")
    assert plan.release_id == rel1.id and not any(s.kind.value == "gate" for s in plan.stages)
    res = apply(plan, rel1, eng.rt, reason="bad numbers")
    assert res.status == "succeeded"
    assert eng.live_link("dev") == rel1.artifacts[0].sha256
    assert len(eng.runner.calls) == 1  # only the post-switch verify; no check before the swap
    statuses = {d.release_id: d.status for d in eng.rt.store.deployments(env="dev") if d.action == "deploy"}
    assert statuses[rel2.id] == DeploymentStatus.ROLLED_BACK
    # the rolled-back release is not "known good" any more: no flip-flop
    from northstar_release.plan import last_known_good

    assert last_known_good(eng.rt.store, "dev") is None


def test_rollback_rebuilds_removed_bundle_folder(eng: Engine) -> None:
    import shutil

    rel1 = eng.build()
    deploy(eng, rel1, "dev")
    rel2 = second_release(eng)
    deploy(eng, rel2, "dev")
    shutil.rmtree(eng.root / "state" / "envs" / "dev" / "dag_bundles" / rel1.artifacts[0].sha256)
    envs = eng.rt.environments
    res = apply(plan_rollback(envs["dev"], rel1, "oncall", eng.rt.store, envs, NOW), rel1, eng.rt)
    assert res.status == "succeeded" and eng.live_link("dev") == rel1.artifacts[0].sha256
