"""DORA figures from a scripted audit chain, each expected value computed by hand from tests/history.py."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from northstar_health.dora import dora_report
from northstar_health.stages import stage_durations
from northstar_health.tests.history import COMMIT_TIMES, SINCE, UNTIL, scripted_chain
from northstar_release.audit import verify_chain
from northstar_release.model import Deployment, DeploymentStatus

H, M = 3600.0, 60.0


def test_scripted_chain_is_a_valid_audit_chain() -> None:
    assert verify_chain(scripted_chain()).ok


def test_prod_dora_matches_hand_computed_figures() -> None:
    prod = dora_report(scripted_chain(), SINCE, UNTIL, COMMIT_TIMES)["prod"]
    # Successful deploy/promote in the window: r1, r4, r5, r6 (r0 is before it; the rollback is not a deployment).
    assert prod.deployments == 4
    assert prod.deployment_frequency_per_day == pytest.approx(4 / 10)
    # Lead times: r1 10:10 after commit, r4 6:02, r5 1 d 0:30, r6 from its release.build (03:30) to 04:00 = 0:30.
    leads = [10 * H + 10 * M, 6 * H + 2 * M, 24 * H + 30 * M, 30 * M]
    assert prod.lead_time_median_s == pytest.approx((6 * H + 2 * M + 10 * H + 10 * M) / 2)
    assert prod.lead_time_mean_s == pytest.approx(sum(leads) / 4)
    # Changes: r1, r3 (switched, then failed verify), r4, r5, r6; failed: r3, r4 (rolled back), r5 (regression).
    assert (prod.changes, prod.failed_changes) == (5, 3)
    assert prod.change_failure_rate == pytest.approx(3 / 5)
    assert {d["release_id"]: d["failure"] for d in prod.failed_deployments} == {
        "r3": "verification", "r4": "rolled_back", "r5": "regression"}
    # Recovery: r3 switch 08:01 -> failed 08:03 = 2 min; r4 live 06:02 -> rollback done 07:12 = 70 min;
    # r5 live 00:30 -> hotfix r6 live 04:00 = 3 h 30.
    recoveries = [2 * M, 70 * M, 3.5 * H]
    assert prod.recovered == 3
    assert prod.recovery_median_s == pytest.approx(70 * M)
    assert prod.recovery_mean_s == pytest.approx(sum(recoveries) / 3)
    # 7 prod attempts in the window (r1, r2, r3, r4, rollback, r5, r6), one blocked.
    assert (prod.attempts, prod.blocked) == (7, 1)
    # dag_integrity: r1, r2 (failed), r4, r5, r6; verify: r1, r3 (failed), r4, rollback, r5, r6; schema: r2.
    rates = {k: (v.evaluated, v.failed) for k, v in prod.gate_failure_rates.items()}
    assert rates == {"dag_integrity": (5, 1), "verify": (6, 1), "schema": (1, 0)}
    assert prod.gate_failure_rates["verify"].rate == pytest.approx(1 / 6)


def test_environments_and_windows_are_separate() -> None:
    report = dora_report(scripted_chain(), SINCE, UNTIL, COMMIT_TIMES)
    staging = report["staging"]
    assert (staging.deployments, staging.changes, staging.failed_changes) == (1, 1, 0)
    assert staging.lead_time_median_s == pytest.approx(9 * H)
    assert staging.change_failure_rate == 0.0
    october = dora_report(scripted_chain(), datetime(2026, 10, 1, tzinfo=UTC), SINCE, COMMIT_TIMES)["prod"]
    assert (october.deployments, october.lead_time_median_s) == (1, pytest.approx(24 * H + 10 * H + 2 * M))
    assert october.change_failure_rate == 0.0


def test_without_release_records_lead_time_falls_back_to_build_time() -> None:
    prod = dora_report(scripted_chain(), SINCE, UNTIL, None)["prod"]
    # Builds are 5 minutes after each commit, so every lead time but r6's (already from its build) is 5 min shorter.
    leads = [10 * H + 5 * M, 6 * H - 3 * M, 24 * H + 25 * M, 30 * M]
    assert prod.lead_time_mean_s == pytest.approx(sum(leads) / 4)


def _dep(env: str, start: datetime, stages: dict[str, str]) -> Deployment:
    return Deployment(release_id="r", env=env, status=DeploymentStatus.SUCCEEDED, actor="ci", started_at=start,
                      stages=stages)


def test_stage_durations_from_deployment_rows() -> None:
    deps = [
        _dep("prod", datetime(2026, 11, 2, 10, 0, tzinfo=UTC), {
            "check:previous_env": "2026-11-02T10:00:30+00:00", "gate:dag_integrity": "2026-11-02T10:02:00+00:00",
            "deploy:airflow_dags:orders": "2026-11-02T10:02:10+00:00", "verify": "2026-11-02T10:03:00+00:00",
            "record": "2026-11-02T10:03:01+00:00"}),
        _dep("prod", datetime(2026, 11, 3, 11, 0, tzinfo=UTC), {
            "gate:dag_integrity": "2026-11-03T11:01:10+00:00", "check:previous_env": "2026-11-03T11:00:10+00:00"}),
        _dep("prod", datetime(2026, 12, 3, 11, 0, tzinfo=UTC), {"check:previous_env": "2026-12-03T11:00:10+00:00"}),
    ]
    stats = stage_durations(deps, SINCE, UNTIL)["prod"]
    assert {k: (v.count, v.median_s, v.max_s) for k, v in stats.items()} == {
        "check:previous_env": (2, 20.0, 30.0), "gate:dag_integrity": (2, 75.0, 90.0),
        "deploy:airflow_dags": (1, 10.0, 10.0), "verify": (1, 50.0, 50.0), "record": (1, 1.0, 1.0)}
