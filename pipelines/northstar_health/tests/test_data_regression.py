"""Data regressions after a deploy: row volume, null rates, duplicate keys, freshness -- flagged beyond the noise.

Unit cases use run records with scripted metrics; the last test reads a real Airflow metadata DB whose runs rebuilt a
real table and pushed its SQL profile as the XCom ``northstar_data`` (pipelines/northstar_health_fixtures).
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from northstar_health.data_regression import DataThresholds, freshness_gaps, judge
from northstar_health.regression import RegressionVerdict, detect_regressions
from northstar_health.runs import HealthInputError, RunRecord, flatten_data, read_airflow_runs
from northstar_health.tests.runs_fixture import DEPLOYED, around_deploy

PEX = os.environ.get("NORTHSTAR_AIRFLOW_HISTORY_PEX", "entrypoints/airflow_history.pex")
JITTER = [1000, 1040, 975, 1012, 990, 1030, 960, 1008, 1021, 985, 1003, 1016]  # +-4 %: a normal day's variation


def _with_data(runs: list[RunRecord], metrics: list[dict[str, float]]) -> list[RunRecord]:
    return [r.model_copy(update={"data": {"marts.fct_orders": m}}) for r, m in zip(runs, metrics, strict=True)]


def _history(before: list[dict[str, float]], after: list[dict[str, float]]) -> list[RunRecord]:
    return _with_data(around_deploy("orders_daily", len(before), set(), len(after), set()), before + after)


def _only(runs: list[RunRecord], metric: str, models: list[str] | None = None) -> RegressionVerdict:
    return next(v for v in detect_regressions(runs, DEPLOYED, models=models) if v.metric == metric)


def test_a_90_percent_row_drop_is_flagged_and_jitter_is_not() -> None:
    base = [{"rows": float(n)} for n in JITTER]
    dropped = _only(_history(base, [{"rows": 100.0}, {"rows": 98.0}, {"rows": 104.0}]), "rows[marts.fct_orders]")
    assert dropped.regressed and dropped.model == "marts.fct_orders"
    assert (dropped.baseline, dropped.observed) == (1005.5, 100.0)
    assert "-90.1%" in dropped.detail
    jitter = _only(_history(base, [{"rows": 1035.0}, {"rows": 968.0}, {"rows": 1011.0}, {"rows": 1044.0}]),
                   "rows[marts.fct_orders]")
    assert not jitter.regressed, jitter
    # A spike is a regression too (a join fan-out), the band is two-sided.
    assert _only(_history(base, [{"rows": 3100.0}] * 3), "rows[marts.fct_orders]").regressed
    # One odd run among the watch runs decides nothing: the median must move.
    assert not _only(_history(base, [{"rows": 100.0}, {"rows": 1001.0}, {"rows": 995.0}]),
                     "rows[marts.fct_orders]").regressed


def test_null_rate_and_duplicate_keys_beyond_noise() -> None:
    base = [{"null_rate.customer_id": 0.01 + (i % 3) * 0.005, "duplicate_keys": 0.0} for i in range(10)]
    nulls = _history(base, [{"null_rate.customer_id": 0.31, "duplicate_keys": 0.0}] * 3)
    v = _only(nulls, "null_rate.customer_id[marts.fct_orders]")
    assert v.regressed and v.observed == 0.31
    assert not _only(nulls, "duplicate_keys[marts.fct_orders]").regressed
    small = _history(base, [{"null_rate.customer_id": 0.03, "duplicate_keys": 0.0}] * 3)
    assert not _only(small, "null_rate.customer_id[marts.fct_orders]").regressed  # +1.5 points < 5-point floor
    dups = _history(base, [{"null_rate.customer_id": 0.01, "duplicate_keys": 12.0}] * 3)
    assert _only(dups, "duplicate_keys[marts.fct_orders]").regressed


def test_freshness_lag_and_gap() -> None:
    base = [{"freshness_s": 30.0 + (i % 4) * 5} for i in range(10)]
    assert _only(_history(base, [{"freshness_s": 400.0}] * 3), "freshness_s[marts.fct_orders]").regressed
    assert not _only(_history(base, [{"freshness_s": 70.0}] * 3), "freshness_s[marts.fct_orders]").regressed
    # Hourly runs: gaps of 3600 s. After the deploy every other run fails -> successes 2 h apart.
    runs = around_deploy("orders_daily", 12, set(), 12, {0, 2, 4, 6, 8, 10})
    gaps = [g for _, g in freshness_gaps(runs)]
    assert gaps[:11] == [3600.0] * 11 and gaps[-1] == 7200.0
    gap = _only(runs, "freshness_gap_s")
    assert gap.regressed and (gap.baseline, gap.observed) == (3600.0, 7200.0)
    assert not _only(around_deploy("orders_daily", 12, set(), 12, set()), "freshness_gap_s").regressed


def test_only_the_changed_models_are_judged_and_too_few_runs_decide_nothing() -> None:
    runs = _history([{"rows": 1000.0}] * 8, [{"rows": 10.0}] * 3)
    names = {v.metric for v in detect_regressions(runs, DEPLOYED, models=["stg_payments"])}
    assert names == {"failure_rate", "duration_median_s", "freshness_gap_s"}
    assert _only(runs, "rows[marts.fct_orders]", models=["fct_orders"]).regressed  # matched by its last part
    few = _only(_history([{"rows": 1000.0}] * 8, [{"rows": 10.0}] * 2), "rows[marts.fct_orders]")
    assert not few.regressed and "not enough runs" in few.detail
    assert not judge("p", "m", "rows", [1000.0] * 4, [1.0] * 3, DataThresholds()).regressed


def test_malformed_metrics_are_refused_with_the_rule() -> None:
    with pytest.raises(HealthInputError, match=r"models.m.rows: 'many' is not a finite number"):
        flatten_data({"models": {"m": {"rows": "many"}}}, "x")
    with pytest.raises(HealthInputError, match=r"unknown metric"):
        flatten_data({"models": {"m": {"row_count": 3}}}, "x")
    with pytest.raises(HealthInputError, match=r"expected"):
        flatten_data([1, 2], "x")


def test_bad_xcom_in_the_metadata_db_names_the_run(tmp_path: Path) -> None:
    db = tmp_path / "airflow.db"
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE dag_run (dag_id, run_id, state, logical_date, start_date, end_date)")
    con.execute("CREATE TABLE task_instance (dag_id, run_id, task_id, state)")
    con.execute("CREATE TABLE xcom (dag_id, run_id, task_id, key, value)")
    con.execute("INSERT INTO dag_run VALUES ('d', 'r1', 'success', '2026-11-10 10:00:00', '2026-11-10 10:00:00', "
                "'2026-11-10 10:01:00')")
    con.execute("INSERT INTO xcom VALUES ('d', 'r1', 'load', 'northstar_data', ?)", (b"not json",))
    con.commit()
    con.close()
    with pytest.raises(HealthInputError, match=r"XCom northstar_data of d/r1/load: not JSON"):
        read_airflow_runs(db)


@pytest.fixture(scope="module")
def airflow_data(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Real runs: ``mart_daily`` rebuilds fct_orders (~1000 rows +-4 %), then a deploy, then 4 runs with 100 rows;
    ``steady_daily`` keeps jittering around 500 rows across the deploy."""
    root = tmp_path_factory.mktemp("airflow-data")

    def step(dag: str, rows: int, **extra: Any) -> dict[str, Any]:
        return {"dag_id": dag, "table": {"model": f"{dag}_fct", "rows": rows, "null_every": 50, "lag_s": 20, **extra}}

    steps: list[dict[str, Any]] = []
    for n in JITTER[:8]:
        steps += [step("mart_daily", n), step("steady_daily", n // 2)]
    steps.append({"mark": "deployed"})
    for n in (100, 97, 103, 99):
        steps.append(step("mart_daily", n, null_every=3))
    for n in JITTER[8:]:
        steps.append(step("steady_daily", n // 2))
    (root / "spec.json").write_text(json.dumps({"steps": steps}))
    proc = subprocess.run([PEX, str(root / "spec.json"), str(root / "home")], capture_output=True, text=True,
                          timeout=800)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    return {"db": Path(out["db"]), "deployed": out["marks"]["deployed"]}


def test_real_airflow_runs_flag_the_volume_drop_and_null_jump_only(airflow_data: dict[str, Any]) -> None:
    from datetime import datetime

    runs = read_airflow_runs(airflow_data["db"])
    first = next(r for r in runs if r.pipeline == "mart_daily")
    assert first.data["mart_daily_fct"]["rows"] == 1000.0  # the SQL profile of the real table, through XCom
    assert first.data["mart_daily_fct"]["null_rate.customer_id"] == pytest.approx(20 / 1000)
    verdicts = detect_regressions(runs, datetime.fromisoformat(airflow_data["deployed"]), baseline=timedelta(days=1))
    flagged = sorted((v.pipeline, v.metric) for v in verdicts if v.regressed)
    assert flagged == [("mart_daily", "null_rate.customer_id[mart_daily_fct]"), ("mart_daily", "rows[mart_daily_fct]")]
    steady = {v.metric: v for v in verdicts if v.pipeline == "steady_daily"}
    assert steady["rows[steady_daily_fct]"].watch_runs == 4 and not steady["rows[steady_daily_fct]"].regressed
    assert not steady["freshness_s[steady_daily_fct]"].regressed and not steady["freshness_gap_s"].regressed
