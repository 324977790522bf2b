"""Build the project with plain dbt-core + dbt-duckdb: seeds, models, schema tests, singular test, unit test.

Why: SQLMesh ignores dbt ``unit_tests:`` (it runs zero of them), so without this test the mart's unit test
would never execute. It also keeps the project valid for dbt itself, our fallback runner.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from dbt.cli.main import dbtRunner, dbtRunnerResult

from northstar_dbt.project import copy_project


def test_dbt_build_runs_every_test_kind(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project = copy_project(tmp_path / "project")
    monkeypatch.setenv("NORTHSTAR_DUCKDB_PATH", str(tmp_path / "dbt.duckdb"))
    monkeypatch.chdir(project)

    result: dbtRunnerResult = dbtRunner().invoke(
        [
            "build",
            "--project-dir",
            str(project),
            "--profiles-dir",
            str(project),
            "--target",
            "duckdb",
            "--quiet",
        ]
    )

    assert result.exception is None, result.exception
    statuses = {r.node.unique_id: str(r.status) for r in result.result}  # type: ignore[union-attr]
    assert result.success, {k: v for k, v in statuses.items() if v not in ("success", "pass")}
    unit_tests = [k for k in statuses if k.startswith("unit_test.")]
    singular = [k for k in statuses if k.startswith("test.northstar.assert_daily_revenue_matches_payments")]
    assert unit_tests == [
        "unit_test.northstar.fct_daily_revenue.fct_daily_revenue_counts_only_recognized_orders"
    ]
    assert singular and all(statuses[k] == "pass" for k in unit_tests + singular)
    assert sum(k.startswith("test.") for k in statuses) >= 12
