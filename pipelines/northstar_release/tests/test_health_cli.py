"""``./release health ...`` through the real CLI, the real SQLite state store and real Airflow runs.

Scenario (module-scoped, built once): r1 reaches prod; 25 good runs of ``sales_daily`` (real ``dag.test()`` runs into
prod's Airflow metadata DB at ``<state>/envs/prod/airflow/airflow.db``); r2 (a DAG change that passes every gate)
reaches prod; 15 runs in which the ``transform`` task fails every fifth run (3 of 15). Expected: a failure-rate
regression (one-sided Fisher p = C(15,3)/C(40,3) = 0.046 < 0.05, 3 >= 2 failures), recorded in the audit chain, prod
rolled back to r1 automatically (prod's policy: auto_rollback) with the regression as reason, one webhook alert.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from northstar_release.state.sqlite_store import SqliteStateStore
from northstar_release.tests.health_helpers import airflow_runs, policy_now, webhook
from northstar_release.tests.helpers import ENVIRONMENTS_YAML, GOOD_DAG, Cli, commit, fake_checker_cmd, make_repo

BASELINE, WATCH, FAILING = 25, 15, {4, 9, 14}
CATALOG = """
domain: sales
pipelines:
  - {id: sales_daily_load, kind: batch_ingest, sla: {batch_minutes: 30}, runs: {dag: sales_daily}}
"""


def to_prod(cli: Cli, rel: str) -> None:
    cli("deploy", rel, "--env", "dev")
    cli("promote", rel, "--to", "staging")
    cli("--as", "bob@northstar.test", "approve", rel, "--env", "prod")
    cli("--as", "carol@northstar.test", "promote", rel, "--to", "prod")


def build(cli: Cli) -> str:
    return str(json.loads(cli("build", "--json").stdout)["release"]["id"])


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("health")
    repo = make_repo(root)
    (repo / "pipelines" / "catalog" / "pipelines").mkdir(parents=True)
    (repo / "pipelines" / "catalog" / "pipelines" / "sales.yaml").write_text(CATALOG)
    commit(repo, "catalog: sales_daily's SLA")
    cli = Cli(repo, root / "state", fake_checker_cmd(root), now=policy_now())
    r1 = build(cli)
    to_prod(cli, r1)
    home = root / "state" / "envs" / "prod" / "airflow"
    airflow_runs(home, "sales_daily", BASELINE)
    (repo / "airflow" / "dags" / "sales_daily.py").write_text(GOOD_DAG.format(dag_id="sales_daily", version=2))
    commit(repo, "v2: passes every gate, fails one run in five in prod")
    r2 = build(cli)
    to_prod(cli, r2)
    airflow_runs(home, "sales_daily", WATCH, FAILING)
    return {"cli": cli, "root": root, "r1": r1, "r2": r2, "db": home / "airflow.db"}


def audit(cli: Cli) -> list[Any]:
    store = SqliteStateStore(cli.state_dir / "state.db")
    try:
        return store.audit_entries()
    finally:
        store.close()


def test_regressions_reports_without_recording(scenario: dict[str, Any]) -> None:
    cli: Cli = scenario["cli"]
    before = len(audit(cli))
    out = cli("health", "regressions", "--env", "prod", "--json", expect=1)
    verdicts = {(v["pipeline"], v["metric"]): v for v in json.loads(out.stdout)}
    failure = verdicts[("sales_daily", "failure_rate")]
    assert failure["regressed"] and failure["baseline_runs"] == BASELINE and failure["watch_runs"] == WATCH
    assert failure["failed_tasks"] == ["transform"] and "3/15 failed" in failure["detail"]
    assert len(audit(cli)) == before  # a report, not a decision


def test_watch_detects_records_rolls_back_and_alerts_once(scenario: dict[str, Any]) -> None:
    cli: Cli = scenario["cli"]
    with webhook() as (url, received):
        # A DAG without enough runs: nothing to conclude, nothing recorded, exit 0.
        quiet = json.loads(cli("health", "watch", "--env", "prod", "--dag", "nightly", "--json").stdout)
        assert quiet["status"] == "ok" and quiet["recorded_audit_seqs"] == [] and not quiet["regressions"]
        assert quiet["watch_open"] is True  # prod's window is 2d: the scheduled watch keeps running

        # Policy without auto_rollback: the regression is recorded and alerted, prod is left alone; a second run
        # records nothing new and the alert is de-duplicated.
        manual = scenario["root"] / "environments-manual.yaml"
        manual.write_text(ENVIRONMENTS_YAML.read_text().replace("auto_rollback: true", "auto_rollback: false"))
        first = json.loads(cli("health", "watch", "--env", "prod", "--webhook", url, "--json", expect=1,
                               NORTHSTAR_ENVIRONMENTS=str(manual)).stdout)
        assert first["status"] == "regressed" and first["rollback"] is None and len(first["recorded_audit_seqs"]) == 1
        assert "NOT rolled back" in received[0]["text"]
        second = json.loads(cli("health", "watch", "--env", "prod", "--webhook", url, "--json", expect=1,
                                NORTHSTAR_ENVIRONMENTS=str(manual)).stdout)
        assert second["recorded_audit_seqs"] == [] and [a["sent"] for a in second["alerts"]] == [False]
        assert len(received) == 1
        assert json.loads(cli("status", "--json").stdout)["environments"]["prod"]["live_release"] == scenario["r2"]
        received.clear()
        (cli.state_dir / "alerts.json").unlink()  # a new on-call shift: the rollback alert must go out

        out = cli("health", "watch", "--env", "prod", "--webhook", url, "--json", expect=1)
        doc = json.loads(out.stdout)
        assert doc["status"] == "rolled_back" and doc["release_id"] == scenario["r2"]
        assert doc["dags"] == ["nightly", "sales_daily"]  # every DAG of the bundle the release ships
        assert [(v["pipeline"], v["metric"]) for v in doc["regressions"]] == [("sales_daily", "failure_rate")]
        assert doc["recorded_audit_seqs"] == []  # recorded by the first run already
        rollback = doc["rollback"]
        assert rollback["status"] == "succeeded" and rollback["release_id"] == scenario["r1"]
        assert 0 < rollback["detection_to_rollback_s"] < 300
        assert [a["sent"] for a in doc["alerts"]] == [True] and len(received) == 1
        assert "sales_daily" in received[0]["text"] and "rolled back to " + scenario["r1"] in received[0]["text"]

        # The audit chain tells the whole story, in order, and still verifies.
        entries = audit(cli)
        actions = [e.action for e in entries]
        reg = entries[actions.index("health.regression")]
        assert reg.release_id == scenario["r2"] and reg.env == "prod" and reg.payload["metric"] == "failure_rate"
        start = next(e for e in entries if e.action == "rollback.start" and e.seq > reg.seq)
        assert start.payload["reason"].startswith("regression: sales_daily failure_rate 3/15 failed")
        done = next(e for e in entries if e.action == "rollback.succeeded" and e.seq > reg.seq)
        assert done.payload["rolled_back_from"] == scenario["r2"]
        timing = next(e for e in entries if e.action == "health.rollback")
        assert timing.payload["regression_seqs"] == [reg.seq]
        assert timing.payload["detection_to_rollback_s"] == pytest.approx((done.at - reg.at).total_seconds(), abs=1e-3)
        cli.audit_ok()
        status = json.loads(cli("status", "--json").stdout)["environments"]
        assert status["prod"]["live_release"] == scenario["r1"]

        # Idempotent: a second run sees the deployment already rolled back; nothing recorded, nothing sent.
        again = json.loads(cli("health", "watch", "--env", "prod", "--webhook", url, "--json").stdout)
        assert again["status"] == "already_rolled_back" and len(audit(cli)) == len(entries) and len(received) == 1


def test_deployments_counts_the_regressed_change_as_failed(scenario: dict[str, Any]) -> None:
    cli: Cli = scenario["cli"]
    cli("health", "watch", "--env", "prod", expect=None)  # ensure the rollback happened (test order independence)
    doc = json.loads(cli("health", "deployments", "--env", "prod", "--json").stdout)
    prod = doc["deployments"]["prod"]
    assert prod["deployments"] == 2 and prod["changes"] == 2 and prod["failed_changes"] == 1
    assert prod["change_failure_rate"] == 0.5 and prod["recovered"] == 1
    human = cli("health", "deployments").stdout
    assert "change failure rate 50.0 % (1/2)" in human


def test_pipelines_reads_the_env_airflow_db(scenario: dict[str, Any]) -> None:
    cli: Cli = scenario["cli"]
    rows = json.loads(cli("health", "pipelines", "--json").stdout)["pipelines"]
    sales = next(p for p in rows if p["dag_id"] == "sales_daily")
    assert sales["month_runs"] == BASELINE + WATCH and sales["month_failed"] == len(FAILING)
    assert sales["budget_exhausted"] is True  # 3 failures > 0.1 % of 40 runs
    assert sales["pipelines"] == ["sales_daily_load"] and sales["batch_sla_s"] == 1800


def test_dashboard_and_metrics(scenario: dict[str, Any]) -> None:
    cli: Cli = scenario["cli"]
    cli("health", "watch", "--env", "prod", expect=None)
    out = json.loads(cli("health", "dashboard", "--json").stdout)
    page = Path(out["dashboard"])
    assert page == cli.state_dir / "health" / "dashboard.html" and page.stat().st_size > 100_000
    assert "sales_daily" in page.read_text()
    text = cli("health", "metrics").stdout
    assert 'northstar_pipeline_error_budget_remaining{pipeline="sales_daily"}' in text
    assert 'northstar_change_failure_rate{env="prod"} 0.5' in text
    prom = scenario["root"] / "health.prom"
    cli("health", "metrics", "--textfile", str(prom))
    written = prom.read_text()
    assert [line for line in written.splitlines() if line.startswith("# ")] == [
        line for line in text.splitlines() if line.startswith("# ")]


@pytest.mark.parametrize("args, needle", [
    (("health", "pipelines", "--env", "nope"), "unknown environment 'nope'"),
    (("health", "watch", "--env", "dev"), "dev declares no health policy"),
    (("health", "pipelines", "--airflow-db", "/nonexistent/airflow.db"), "/nonexistent/airflow.db"),
    (("health", "deployments", "--since", "yesterday"), "--since 'yesterday'"),
])
def test_bad_input_exits_2_and_names_the_rule(scenario: dict[str, Any], args: tuple[str, ...], needle: str) -> None:
    cli: Cli = scenario["cli"]
    before = len(audit(cli))
    out = cli(*args, "--json", expect=2)
    doc = json.loads(out.stdout)
    assert doc["exit_code"] == 2 and needle in doc["error"] + " ".join(doc["reasons"])
    assert len(audit(cli)) == before


def test_help_lists_the_health_commands(scenario: dict[str, Any]) -> None:
    cli: Cli = scenario["cli"]
    text = cli("health", "--help").stdout
    for name in ("deployments", "pipelines", "regressions", "dashboard", "metrics", "watch"):
        assert name in text


# Last in the module: it adds deployments to the shared scenario's prod.
def test_error_budget_blocks_prod_promotion_except_hotfix_and_rollback(scenario: dict[str, Any]) -> None:
    cli: Cli = scenario["cli"]
    repo = cli.repo
    cli("health", "watch", "--env", "prod", expect=None)  # r2 rolled back; sales_daily's budget: 3 failed of 40
    (repo / "airflow" / "dags" / "sales_daily.py").write_text(GOOD_DAG.format(dag_id="sales_daily", version=3))
    commit(repo, "v3: an ordinary change")
    r3 = build(cli)
    cli("deploy", r3, "--env", "dev")
    cli("promote", r3, "--to", "staging")  # staging declares no budget policy
    cli("--as", "bob@northstar.test", "approve", r3, "--env", "prod")
    dry = json.loads(cli("promote", r3, "--to", "prod", "--dry-run", "--json", expect=1).stdout)
    assert any("error budget exhausted for sales_daily" in r for r in dry["would_block"])
    out = json.loads(cli("promote", r3, "--to", "prod", "--json", expect=1).stdout)
    assert out["status"] == "blocked"
    [reason] = out["reasons"]
    assert reason.startswith("error budget exhausted for sales_daily: 3 failed of 40 runs this month")
    assert "only rollbacks and hotfix releases may touch it" in reason
    status = json.loads(cli("status", "--json").stdout)["environments"]
    assert status["prod"]["live_release"] == scenario["r1"]  # nothing changed

    (repo / "airflow" / "dags" / "sales_daily.py").write_text(GOOD_DAG.format(dag_id="sales_daily", version=4))
    commit(repo, "v4: the fix")
    r4 = str(json.loads(cli("build", "--emergency", "--json").stdout)["release"]["id"])  # the hotfix lane
    cli("--as", "oncall@northstar.example", "approve", r4, "--env", "prod")
    cli("deploy", r4, "--env", "prod")  # passes check:error_budget although sales_daily's budget is spent
    assert json.loads(cli("status", "--json").stdout)["environments"]["prod"]["live_release"] == r4
    rb = json.loads(cli("rollback", "--env", "prod", "--reason", "drill", "--json").stdout)
    assert rb["status"] == "succeeded"  # rollbacks are never budget-blocked
    cli.audit_ok()
