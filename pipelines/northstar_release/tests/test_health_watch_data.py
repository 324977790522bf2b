"""``./release health watch`` on data metrics: a release after which a mart's row volume drops 90 % is rolled back.

Real CLI, real SQLite state, real Airflow runs: each run of ``sales_daily`` rebuilds the table ``fct_sales`` in a
real database and pushes its SQL profile as the XCom ``northstar_data`` (the fixture's ``table`` step). r1 in prod:
8 runs of about 1000 rows (+-4 %); r2 (a DAG change that passes every gate) in prod: 4 runs of about 100 rows, none
failing and no slower -- only the data says something is wrong.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from northstar_release.state.sqlite_store import SqliteStateStore
from northstar_release.tests.health_helpers import airflow_runs, policy_now
from northstar_release.tests.helpers import GOOD_DAG, Cli, commit, fake_checker_cmd, make_repo
from northstar_release.tests.test_health_cli import build, to_prod

BEFORE = [1000, 1040, 975, 1012, 990, 1030, 960, 1008]
AFTER = [100, 97, 103, 99]


def _tables(counts: list[int]) -> list[dict[str, Any]]:
    return [{"model": "fct_sales", "rows": n, "null_every": 50, "lag_s": 15} for n in counts]


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("health-data")
    repo = make_repo(root)
    cli = Cli(repo, root / "state", fake_checker_cmd(root), now=policy_now())
    r1 = build(cli)
    to_prod(cli, r1)
    home = root / "state" / "envs" / "prod" / "airflow"
    airflow_runs(home, "sales_daily", len(BEFORE), tables=_tables(BEFORE))
    (repo / "airflow" / "dags" / "sales_daily.py").write_text(GOOD_DAG.format(dag_id="sales_daily", version=2))
    commit(repo, "v2: passes every gate, loads a tenth of the rows in prod")
    r2 = build(cli)
    to_prod(cli, r2)
    airflow_runs(home, "sales_daily", len(AFTER), tables=_tables(AFTER))
    return {"cli": cli, "r1": r1, "r2": r2}


def test_row_volume_drop_is_detected_and_rolled_back(scenario: dict[str, Any]) -> None:
    cli: Cli = scenario["cli"]
    report = json.loads(cli("health", "regressions", "--env", "prod", "--dag", "sales_daily", "--json",
                            expect=1).stdout)
    by_metric = {v["metric"]: v for v in report}
    assert by_metric["rows[fct_sales]"]["regressed"] and by_metric["rows[fct_sales]"]["observed"] == 99.5
    assert not by_metric["failure_rate"]["regressed"] and not by_metric["duration_median_s"]["regressed"]
    assert not by_metric["null_rate.customer_id[fct_sales]"]["regressed"]

    doc = json.loads(cli("health", "watch", "--env", "prod", "--dag", "sales_daily", "--json", expect=1).stdout)
    assert doc["status"] == "rolled_back" and doc["models"] is None  # no warehouse change: every reported model
    assert [(v["pipeline"], v["metric"], v["model"]) for v in doc["regressions"]] == [
        ("sales_daily", "rows[fct_sales]", "fct_sales")]
    assert doc["rollback"]["release_id"] == scenario["r1"]
    store = SqliteStateStore(cli.state_dir / "state.db")
    try:
        entries = store.audit_entries()
    finally:
        store.close()
    reg = next(e for e in entries if e.action == "health.regression")
    assert reg.payload["metric"] == "rows[fct_sales]" and reg.payload["baseline"] == 1004.0
    start = next(e for e in entries if e.action == "rollback.start" and e.seq > reg.seq)
    assert start.payload["reason"].startswith("regression: sales_daily rows[fct_sales] median rows 99.5 after")
    cli.audit_ok()
    assert json.loads(cli("status", "--json").stdout)["environments"]["prod"]["live_release"] == scenario["r1"]
