"""Pipeline health and the regression watch against a real Airflow metadata DB.

The DB is produced by running a real 3-task DAG with Airflow's own ``dag.test()`` (pipelines/northstar_health_fixtures,
airflow resolve, packaged as a PEX): 25 good runs of orders_hourly, then a deployment, then 15 runs in which the
transform task fails every fifth run. Expected figures follow from that script.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from northstar_health.regression import detect_regressions
from northstar_health.runs import read_airflow_runs
from northstar_health.slo import load_slos, month_start, pipeline_health

PEX = os.environ.get("NORTHSTAR_AIRFLOW_HISTORY_PEX", "entrypoints/airflow_history.pex")
BASELINE, WATCH, FAILING = 25, 15, {4, 9, 14}

CATALOG = """
domain: test
pipelines:
  - {id: ingest_orders, kind: batch_ingest, sla: {batch_minutes: 30}, runs: {dag: orders_hourly}}
  - {id: stg_orders, kind: transform, sla: {batch_minutes: 20}, runs: {dag: orders_hourly}}
  - {id: slow_mart, kind: transform, sla: {batch_minutes: 0.15}, runs: {dag: slow_batch}}
  - {id: stream_orders, kind: streaming_ingest, sla: {freshness_seconds: 150}, runs: {dag: stream_supervisor}}
"""


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("airflow")
    steps: list[dict[str, Any]] = [{"dag_id": "orders_hourly"} for _ in range(BASELINE)]
    steps.append({"mark": "deployed"})
    steps += [{"dag_id": "orders_hourly", "fail": i in FAILING} for i in range(WATCH)]
    steps += [{"dag_id": "slow_batch", "sleep_s": 12}, {"dag_id": "stream_supervisor"}]
    (root / "spec.json").write_text(json.dumps({"steps": steps}))
    proc = subprocess.run([PEX, str(root / "spec.json"), str(root / "home")], capture_output=True, text=True, timeout=800)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    catalog = root / "catalog"
    catalog.mkdir()
    (catalog / "test.yaml").write_text(CATALOG)
    return {"db": Path(out["db"]), "runs": out["runs"], "deployed": datetime.fromisoformat(out["marks"]["deployed"]),
            "catalog": catalog, "now": datetime.now(UTC)}


def test_runs_are_read_as_airflow_recorded_them(history: dict[str, Any]) -> None:
    runs = read_airflow_runs(history["db"])
    assert [(r.pipeline, r.run_id, r.state) for r in runs] == [
        (r["dag_id"], r["run_id"], r["state"]) for r in history["runs"]]
    failed = [r for r in runs if r.failed]
    assert len(failed) == len(FAILING) and all(r.failed_tasks == ["transform"] for r in failed)


def test_pipeline_health_against_catalog_slos(history: dict[str, Any]) -> None:
    now = history["now"]
    health = {p.dag_id: p for p in pipeline_health(read_airflow_runs(history["db"]), load_slos(history["catalog"]), now)}
    orders = health["orders_hourly"]
    assert orders.pipelines == ["ingest_orders", "stg_orders"]
    assert orders.batch_sla_s == 20 * 60  # the stricter of 30 and 20 minutes
    # Runs are dated "now": all 40 fall in this month unless the history straddled a month boundary.
    mine = [r for r in read_airflow_runs(history["db"]) if r.pipeline == "orders_hourly"]
    in_month = [r for r in mine if r.logical_date >= month_start(now)]
    assert (orders.month_runs, orders.month_failed) == (len(in_month), sum(r.failed for r in in_month))
    if len(in_month) == len(mine) == 40:
        assert orders.success_rate == pytest.approx(37 / 40)
        # 3 failures against an allowance of 0.1 % x 40 runs = 0.04 failures: overspent 75-fold.
        assert orders.error_budget_remaining == pytest.approx(1 - 3 / 0.04)
    assert orders.budget_exhausted and orders.sla_misses == 0
    slow = health["slow_batch"]
    assert slow.duration_max_s is not None and slow.duration_max_s >= 12
    assert slow.batch_sla_s == pytest.approx(9.0) and slow.sla_misses == 1
    assert slow.error_budget_remaining == 1.0 and not slow.budget_exhausted
    stream = health["stream_supervisor"]
    assert stream.freshness_s is not None and 0 <= stream.freshness_s < 150
    assert stream.freshness_target_s == 150 and stream.freshness_ok
    later = {p.dag_id: p for p in pipeline_health(read_airflow_runs(history["db"]), load_slos(history["catalog"]),
                                                  now + timedelta(minutes=10))}
    stale = later["stream_supervisor"]
    assert stale.freshness_s is not None and stale.freshness_s >= 600 and stale.freshness_ok is False


def test_one_failed_run_in_five_after_the_deploy_is_detected(history: dict[str, Any]) -> None:
    verdicts = detect_regressions(read_airflow_runs(history["db"]), history["deployed"], ["orders_hourly"])
    failure = next(v for v in verdicts if v.metric == "failure_rate")
    assert failure.regressed and failure.failed_tasks == ["transform"]
    assert (failure.baseline, failure.observed, failure.baseline_runs, failure.watch_runs) == (0.0, 0.2, 25, 15)
    # The same runs split at a point with no change (inside the baseline) show no regression.
    quiet = detect_regressions(read_airflow_runs(history["db"]), history["deployed"] - timedelta(days=30), ["orders_hourly"])
    assert not any(v.regressed for v in quiet)


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    return subprocess.run([sys.executable, "-m", "northstar_health", *args], capture_output=True, text=True, env=env,
                          timeout=300)


def test_cli_pipelines_and_regressions(history: dict[str, Any]) -> None:
    proc = _cli("pipelines", "--airflow-db", str(history["db"]), "--catalog", str(history["catalog"]), "--json")
    assert proc.returncode == 0, proc.stderr
    by_dag = {p["dag_id"]: p for p in json.loads(proc.stdout)["pipelines"]}
    assert by_dag["orders_hourly"]["month_failed"] == 3 and by_dag["orders_hourly"]["budget_exhausted"]
    proc = _cli("regressions", "--airflow-db", str(history["db"]), "--deployed-at", history["deployed"].isoformat(),
                "--dag", "orders_hourly", "--json")
    assert proc.returncode == 1, proc.stderr
    found = [v for v in json.loads(proc.stdout) if v["regressed"]]
    # Only the failure rate is asserted: these runs' durations are wall-clock times on a shared machine, so a load
    # change between baseline and watch can legitimately show up as a duration regression too.
    assert ("orders_hourly", "failure_rate") in [(v["pipeline"], v["metric"]) for v in found]


def test_cli_bad_input_names_the_file_and_exits_2(tmp_path: Path) -> None:
    proc = _cli("pipelines", "--airflow-db", str(tmp_path / "missing.db"), "--catalog", str(tmp_path))
    assert proc.returncode == 2 and "missing.db" in proc.stderr and "rule:" in proc.stderr
    not_airflow = tmp_path / "other.db"
    not_airflow.write_bytes(b"")
    proc = _cli("pipelines", "--airflow-db", str(not_airflow), "--catalog", str(tmp_path))
    assert proc.returncode == 2 and "no dag_run table" in proc.stderr
    proc = _cli("deployments", "--state-dir", str(tmp_path / "nostate"))
    assert proc.returncode == 2 and "state.db" in proc.stderr
    assert not (tmp_path / "nostate").exists()
    for command in ("deployments", "pipelines", "regressions", "dashboard", "metrics"):
        assert _cli(command, "--help").returncode == 0


def test_cli_dashboard_and_metrics(history: dict[str, Any], tmp_path: Path) -> None:
    from northstar_health.tests.store_fixture import two_deploys_and_a_rollback

    two_deploys_and_a_rollback(tmp_path)
    common = ["--state-dir", str(tmp_path), "--airflow-db", str(history["db"]), "--catalog", str(history["catalog"])]
    proc = _cli("dashboard", *common, "--out", str(tmp_path / "out" / "health.html"), "--json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    page = Path(data["dashboard"]).read_text()
    assert data["deployments"]["prod"]["change_failure_rate"] == 0.5
    assert '"orders_hourly"' in page and "health-data" in page
    proc = _cli("metrics", *common, "--textfile", str(tmp_path / "health.prom"))
    assert proc.returncode == 0, proc.stderr
    prom = (tmp_path / "health.prom").read_text()
    assert 'northstar_change_failure_rate{env="prod"} 0.5' in prom
    assert 'northstar_pipeline_sla_misses{pipeline="slow_batch"} 1.0' in prom
    server = subprocess.Popen([sys.executable, "-m", "northstar_health", "metrics", *common, "--serve", "0",
                               "--serve-seconds", "60"], stdout=subprocess.PIPE, text=True,
                              env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    try:
        assert server.stdout is not None
        url = server.stdout.readline().split()[-1]
        assert url.startswith("http://127.0.0.1:")
        import urllib.request

        with urllib.request.urlopen(url, timeout=30) as response:  # noqa: S310 (loopback URL printed by the CLI)
            assert 'northstar_deployments{env="prod"} 2.0' in response.read().decode()
    finally:
        server.terminate()
        server.wait(timeout=30)
