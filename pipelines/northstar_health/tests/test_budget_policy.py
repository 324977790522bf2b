"""Error-budget policy: an exhausted budget blocks prod promotions touching the DAG, not rollbacks or hotfixes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from northstar_health.slo import DagSlo, budget_block_reasons, pipeline_health
from northstar_health.tests.runs_fixture import hourly


def test_error_budget_policy_blocks_promotions_but_not_rollbacks_or_hotfixes() -> None:
    now = datetime(2026, 11, 20, tzinfo=UTC)
    runs = hourly("orders_hourly", now - timedelta(days=2), 40, failing={7}) + hourly("other", now - timedelta(days=2), 40)
    health = pipeline_health(runs, {"orders_hourly": DagSlo(dag_id="orders_hourly", pipelines=["p"])}, now)
    reasons = budget_block_reasons(health, ["orders_hourly", "other"], action="promote")
    assert len(reasons) == 1 and reasons[0].startswith("error budget exhausted for orders_hourly: 1 failed of 40")
    assert budget_block_reasons(health, ["other"], action="promote") == []
    assert budget_block_reasons(health, ["orders_hourly"], action="rollback") == []
    assert budget_block_reasons(health, ["orders_hourly"], action="promote", tags=["hotfix"]) == []
