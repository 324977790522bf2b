"""Build the project with plain dbt-core + dbt-duckdb: seeds, 200+ models, contracts, data tests, singular test, unit tests.

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
    assert sorted(unit_tests) == [
        "unit_test.northstar.fct_ap_aging.ap_aging_buckets_open_invoices_by_days_past_due",
        "unit_test.northstar.fct_daily_revenue.fct_daily_revenue_counts_only_recognized_orders",
        "unit_test.northstar.fct_gift_card_liability.gift_card_liability_excludes_expired_balances",
        "unit_test.northstar.fct_gl_trial_balance.trial_balance_uses_each_account_types_normal_side",
        "unit_test.northstar.int_revenue__order_recognition.revenue_recognized_at_till_or_on_delivery",
    ]
    assert singular and all(statuses[k] == "pass" for k in unit_tests + singular)
    assert sum(k.startswith("test.") for k in statuses) >= 400
    models = [k for k in statuses if k.startswith("model.northstar.")]
    assert len(models) >= 200 and all(statuses[k] == "success" for k in models)
    # The enforced contracts were checked by dbt while building (a mismatch fails the model, hence the build).
    # The bronze layer came from the dbt-duckdb plugin (fresh DuckDB file): staging sees every source row.
    import duckdb

    # Same configuration as dbt-duckdb's still-open connection in this process (DuckDB refuses a different one).
    con = duckdb.connect(str(tmp_path / "dbt.duckdb"))
    try:
        bronze = con.execute("select count(*) from bronze.retail_oltp__orders").fetchone()
        staged = con.execute("select count(*) from analytics.stg_retail_oltp__orders").fetchone()
        trial = con.execute("select sum(total_debit) - sum(total_credit) from analytics.fct_gl_trial_balance").fetchone()
    finally:
        con.close()
    assert bronze is not None and staged is not None and bronze[0] == staged[0] > 0
    assert trial is not None and trial[0] == 0  # double entry: the trial balance balances
