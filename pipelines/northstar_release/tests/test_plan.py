"""Planning: plan_deploy/plan_rollback stages, explain, and the change planner fed captured Pants JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from northstar_release.changes import plan_changes, to_markdown
from northstar_release.errors import Blocked
from northstar_release.evaluator import apply
from northstar_release.explainer import explain
from northstar_release.model import ArtifactKind
from northstar_release.plan import plan_deploy, plan_rollback
from northstar_release.stages import StageKind
from northstar_release.tests.fixtures_engine import NOW, make_engine
from northstar_release.tests.helpers import make_repo

# Shape of `./pants peek` output (Pants 2.17): one object per target with address, target_type and fields.
PEEK = json.loads("""[
  {"address": "airflow/dags/orders_daily.py", "target_type": "python_source", "dependencies": [], "tags": null},
  {"address": "dbt/models/marts/finance/fct_revenue.sql:models", "target_type": "dbt_model",
   "tags": ["finance"], "dependencies": []},
  {"address": "legacy/legacy_dags/nightly.py", "target_type": "python_source", "tags": ["legacy"]},
  {"address": "infra/__main__.py", "target_type": "python_source", "tags": null}
]""")


@pytest.fixture
def eng(tmp_path: Path):
    return make_engine(tmp_path, make_repo(tmp_path))


def test_plan_for_prod_has_checks_then_deploy_verify_record(eng) -> None:
    rel = eng.build()
    envs = eng.rt.environments
    plan = plan_deploy(rel, envs["prod"], "promote", "carol", eng.rt.store, envs, NOW)
    kinds = [s.kind for s in plan.stages]
    gates = len(envs["prod"].gates)  # one stage per gate prod's configuration lists
    assert kinds == [StageKind.CHECK] * 4 + [StageKind.GATE] * gates + [StageKind.DEPLOY, StageKind.VERIFY,
                                                                         StageKind.RECORD]
    assert [s.name for s in plan.stages[:4]] == ["check:previous_env", "check:approvals", "check:freeze_window",
                                                 "check:error_budget"]  # prod's health.budget_block
    assert any("has not succeeded in staging" in n for n in plan.notes)
    assert any("approver" in n for n in plan.notes)
    table, doc = explain(plan)
    assert doc["stages"][4 + gates]["artifact"]["sha256"] == rel.artifacts[0].sha256  # first DEPLOY, after checks + gates
    assert table.row_count == 4 + gates + 3  # checks, gates, deploy, verify, record


def test_dev_plan_has_gate_and_already_live_skip(eng) -> None:
    rel = eng.build()
    envs = eng.rt.environments
    plan = plan_deploy(rel, envs["dev"], "deploy", "ci", eng.rt.store, envs, NOW)
    assert [s.name for s in plan.stages][:3] == ["gate:secret_scan", "gate:env_config", "gate:dag_integrity"]
    assert apply(plan, rel, eng.rt).status == "succeeded"
    again = plan_deploy(rel, envs["dev"], "deploy", "ci", eng.rt.store, envs, NOW)
    deploy = next(s for s in again.stages if s.kind == StageKind.DEPLOY)
    assert deploy.skip_reason == "already live"
    assert any("no-op" in n for n in again.notes)


def test_plan_sees_unrecorded_switch_on_disk(eng) -> None:
    rel = eng.build()
    envs = eng.rt.environments
    apply(plan_deploy(rel, envs["dev"], "deploy", "ci", eng.rt.store, envs, NOW), rel, eng.rt)
    plan = plan_deploy(rel, envs["dev"], "deploy", "ci", eng.rt.store, envs, NOW,
                       actual={("dag_bundle", "airflow-dags"): "f" * 64})
    assert next(s for s in plan.stages if s.kind == StageKind.DEPLOY).skip_reason is None


def test_rollback_without_known_good_is_blocked(eng) -> None:
    envs = eng.rt.environments
    with pytest.raises(Blocked):
        plan_rollback(envs["prod"], None, "oncall", eng.rt.store, envs, NOW)


def test_plan_is_plain_data_roundtrip(eng) -> None:
    from northstar_release.stages import ReleasePlan

    rel = eng.build()
    envs = eng.rt.environments
    plan = plan_deploy(rel, envs["staging"], "promote", "ci", eng.rt.store, envs, NOW)
    assert ReleasePlan.model_validate(plan.to_json()) == plan


def test_change_planner_groups_units_and_flags_risks() -> None:
    from northstar_release.environments import load_environments
    from northstar_release.tests.helpers import ENVIRONMENTS_YAML

    files = ["airflow/dags/orders_daily.py", "dbt/models/marts/finance/fct_revenue.sql", "legacy/legacy_dags/nightly.py",
             "infra/__main__.py", "README.md"]
    cp = plan_changes(files, PEEK, "origin/main", load_environments(ENVIRONMENTS_YAML))
    kinds = [u.kind for u in cp.units]
    assert kinds == [ArtifactKind.DAG_BUNDLE, ArtifactKind.INFRA_VERSION_MAP, ArtifactKind.WAREHOUSE_PROJECT]
    dag = cp.units[0]
    assert dag.gates == ["dag_integrity"] and len(dag.targets) == 2
    assert cp.tags == ["finance", "legacy"]
    assert cp.approvals == {"prod": 2}
    notes = " ".join(cp.risk_notes)
    assert "legacy DAG changed" in notes and "infra changed" in notes and "finance model changed" in notes
    assert cp.unmapped == ["README.md"]
    md = to_markdown(cp)
    assert "| dag_bundle |" in md and "prod: 2" in md
    assert json.loads(json.dumps(cp.to_json()))["units"][0]["kind"] == "dag_bundle"


def test_change_planner_without_finance_needs_one() -> None:
    from northstar_release.environments import load_environments
    from northstar_release.tests.helpers import ENVIRONMENTS_YAML

    cp = plan_changes(["airflow/dags/orders_daily.py"], PEEK[:1], "HEAD~1", load_environments(ENVIRONMENTS_YAML))
    assert cp.approvals == {"prod": 1} and cp.risk_notes == []


def test_compute_change_plan_uses_injected_pants(tmp_path: Path) -> None:
    from northstar_release.changes import compute_change_plan
    from northstar_release.tests.helpers import commit, git

    repo = make_repo(tmp_path)
    (repo / "airflow" / "dags" / "sales_daily.py").write_text("# changed\n")
    commit(repo, "change")

    class FakePants:
        def changed_targets(self, since: str) -> list[str]:
            assert since == "HEAD~1"
            return ["airflow/dags/orders_daily.py"]

        def peek(self, addresses: list[str]):
            return [t for t in PEEK if t["address"] in addresses]

        def targets_tagged(self, tag: str) -> list[str]:
            return [t["address"] for t in PEEK if tag in (t["tags"] or [])]

    cp = compute_change_plan(repo, "HEAD~1", FakePants())
    assert cp.files == ["airflow/dags/sales_daily.py"] and cp.units[0].kind == ArtifactKind.DAG_BUNDLE
    assert git(repo, "rev-parse", "--abbrev-ref", "HEAD") == "main"


# ------------------------------------------------------------------------------------------- policy (unit tests) ---
from datetime import UTC, datetime, timedelta, timezone  # noqa: E402

from northstar_release import policy  # noqa: E402
from northstar_release.errors import UsageError  # noqa: E402
from northstar_release.model import Approval, Environment, FreezeWindow, PromotionMode, Release  # noqa: E402

PROD = Environment(name="prod", order=3, promotion=PromotionMode.APPROVAL, approvers_required=1,
                   finance_approvers_required=2,
                   freeze_windows=(FreezeWindow(start="01:00", end="03:00", reason="nightly batch window"),))


def release(tags: tuple[str, ...] = ()) -> Release:
    return Release(id="rel-abc", git_commit="a" * 40, author="alice@x", created_at=datetime(2025, 1, 1, tzinfo=UTC),
                   artifacts=(), tags=tags)


def approval(who: str, env: str = "prod") -> Approval:
    return Approval(release_id="rel-abc", env=env, approver=who, at=datetime(2025, 1, 1, tzinfo=UTC))


@pytest.mark.parametrize("hhmm, frozen", [("00:59", False), ("01:00", True), ("02:59", True), ("03:00", False)])
def test_daily_window(hhmm: str, frozen: bool) -> None:
    h, m = map(int, hhmm.split(":"))
    assert (policy.active_freeze(PROD, datetime(2025, 3, 4, h, m, tzinfo=UTC)) is not None) is frozen


@pytest.mark.parametrize("hhmm, frozen", [("21:59", False), ("22:00", True), ("23:59", True), ("00:00", True),
                                          ("01:59", True), ("02:00", False), ("12:00", False)])
def test_window_crossing_midnight(hhmm: str, frozen: bool) -> None:
    w = FreezeWindow(start="22:00", end="02:00")
    h, m = map(int, hhmm.split(":"))
    assert policy.in_window(datetime(2025, 3, 4, h, m, tzinfo=UTC), w) is frozen


def test_window_uses_utc_for_other_timezones() -> None:
    cet = timezone(timedelta(hours=1))
    assert policy.active_freeze(PROD, datetime(2025, 3, 4, 2, 30, tzinfo=cet)) is not None  # 01:30 UTC
    assert policy.active_freeze(PROD, datetime(2025, 3, 4, 1, 30, tzinfo=cet)) is None  # 00:30 UTC


def test_self_approval_does_not_count() -> None:
    verdict = policy.evaluate_approvals(PROD, release(), [approval("alice@x"), approval("ALICE@x")])
    assert not verdict.ok and verdict.counted == ()
    assert any("author cannot approve" in r for r in verdict.reasons)
    assert policy.check_self_approval(release(), "Alice@X") is not None
    assert policy.check_self_approval(release(), "bob@x") is None


def test_contributors_of_shipped_commits_cannot_approve() -> None:
    rel = Release(id="rel-abc", git_commit="a" * 40, author="alice@x", created_at=datetime(2025, 1, 1, tzinfo=UTC),
                  artifacts=(), contributors=("alice@x", "carol@x"))
    verdict = policy.evaluate_approvals(PROD, rel, [approval("Carol@X")])
    assert not verdict.ok and verdict.counted == ()
    assert any("authored or committed" in r for r in verdict.reasons)
    assert policy.check_self_approval(rel, "carol@x") is not None
    assert policy.evaluate_approvals(PROD, rel, [approval("bob@x")]).ok


def test_one_approver_suffices_for_normal_release() -> None:
    assert policy.evaluate_approvals(PROD, release(), [approval("bob@x")]).ok


def test_finance_needs_two_distinct_non_author_approvers() -> None:
    rel = release(("finance",))
    assert policy.approvals_required(PROD, rel) == 2
    assert not policy.evaluate_approvals(PROD, rel, [approval("bob@x"), approval("bob@x")]).ok
    assert not policy.evaluate_approvals(PROD, rel, [approval("bob@x"), approval("alice@x")]).ok
    assert policy.evaluate_approvals(PROD, rel, [approval("bob@x"), approval("carol@x")]).ok


def test_approvals_for_other_env_do_not_count() -> None:
    assert not policy.evaluate_approvals(PROD, release(), [approval("bob@x", env="staging")]).ok


def test_automatic_env_needs_none() -> None:
    dev = Environment(name="dev", order=1)
    assert policy.evaluate_approvals(dev, release(("finance",)), []).ok


def test_now_from_env() -> None:
    assert policy.now_utc({"NORTHSTAR_NOW": "2025-03-04T01:30:00Z"}) == datetime(2025, 3, 4, 1, 30, tzinfo=UTC)
    assert policy.now_utc({"NORTHSTAR_NOW": "2025-03-04T01:30:00"}).tzinfo is not None
    with pytest.raises(UsageError):
        policy.now_utc({"NORTHSTAR_NOW": "yesterday"})
