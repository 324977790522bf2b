"""Issue 10, deliver 2 through the real CLI: the ``contract`` gate on a real contracted mart.

Real components only: the warehouse entry point (SQLMesh over the platform's dbt project on DuckDB), the release CLI
as a subprocess, a temporary git repository holding the platform's real ``dim_campaigns`` (a public mart with an
enforced contract), its real consumer ``fct_campaign_budget_pacing`` and everything they need (``dbt_slice``), plus a
reporting DAG whose SQL reads the mart. The DAG bundle check is the contract-only fake of helpers.py.

Each bad change is blocked at dev with the model, the column, the old and new type and the consumers named, and
prod keeps serving v1 (its LIVE pointer does not move; a blocked release cannot be promoted).
"""

from __future__ import annotations

import json

import pytest
import yaml

from northstar_release.tests.dbt_slice import copy_dbt_slice
from northstar_release.tests.helpers import commit, fake_checker_cmd, git, release_id
from northstar_release.tests.test_gates_e2e import WarehouseCli, run
from northstar_secrets.baseline import write_baseline

MART_SQL = "dbt/models/marts/marketing/dim_campaigns.sql"
MART_YML = "dbt/models/marts/marketing/_marketing__models.yml"
PACING_SQL = "dbt/models/marts/marketing/fct_campaign_budget_pacing.sql"
BUDGET_SQL = "c.budget,"
REPORT_DAG = '''"""Weekly campaign report: reads the public campaign mart with SQL."""
from datetime import datetime

from airflow import DAG
from airflow.providers.common.sql.operators.sql import SQLExecuteQueryOperator

REPORT_SQL = """
select campaign_id, campaign_name, channel
from analytics.dim_campaigns
where ends_on >= current_date
"""

with DAG(dag_id="campaign_report", start_date=datetime(2024, 1, 1), schedule="@weekly", catchup=False,
         tags=["marketing"], default_args={"owner": "marketing-analytics", "retries": 1}) as dag:
    SQLExecuteQueryOperator(task_id="report", conn_id="warehouse", sql=REPORT_SQL)
'''
ENVIRONMENTS = """\
environments:
  dev:
    order: 1
    promotion: automatic
    gates: [contract]
    backend: local
  prod:
    order: 2
    promotion: automatic
    previous: dev
    gates: [contract]
    backend: local
"""


@pytest.fixture(scope="module")
def cli(tmp_path_factory: pytest.TempPathFactory) -> WarehouseCli:
    root = tmp_path_factory.mktemp("contract-gate")
    repo = root / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    git(repo, "config", "user.email", "alice@northstar.test")
    git(repo, "config", "user.name", "alice")
    copy_dbt_slice(repo, ["dim_campaigns", "fct_campaign_budget_pacing"])
    write_baseline([repo / "dbt" / "config.py"], repo, repo / ".secrets.baseline")
    (repo / "pipelines").mkdir()
    (repo / "pipelines" / "environments.yaml").write_text(ENVIRONMENTS)
    (repo / "airflow" / "dags").mkdir(parents=True)
    (repo / "airflow" / "dags" / "campaign_report.py").write_text(REPORT_DAG)
    (repo / ".gitignore").write_text(".release-state/\n")
    commit(repo, "v1")
    return WarehouseCli(repo, root / "state", fake_checker_cmd(root))


def _gate(doc: dict) -> dict:
    (result,) = (g for g in doc["gate_results"] if g["gate"] == "contract")
    return result


def _edit(cli: WarehouseCli, path: str, old: str, new: str) -> None:
    target = cli.repo / path
    text = target.read_text()
    assert old in text, f"{old!r} not in {path}"
    target.write_text(text.replace(old, new, 1))


def _edit_contract(cli: WarehouseCli, column: str, data_type: str | None) -> None:
    """Set ``column``'s declared type in dim_campaigns' contract (``None``: remove the column from it)."""
    path = cli.repo / MART_YML
    doc = yaml.safe_load(path.read_text())
    (model,) = (m for m in doc["models"] if m["name"] == "dim_campaigns")
    (col,) = (c for c in model["columns"] if c["name"] == column)
    if data_type is None:
        model["columns"].remove(col)
    else:
        col["data_type"] = data_type
    path.write_text(yaml.safe_dump(doc, sort_keys=False))


def _live(cli: WarehouseCli, env: str) -> str:
    return (cli.state_dir / "envs" / env / "warehouse" / "LIVE").read_text().strip()


def test_contract_violations_and_breaking_changes_are_blocked_before_prod_naming_consumers(cli: WarehouseCli) -> None:
    run(cli, "build")
    v1 = release_id(cli.repo)
    first = _gate(run(cli, "deploy", v1, "--env", "dev"))
    assert first["outcome"] == "passed" and "hold their contract" in first["summary"], first["summary"]
    run(cli, "deploy", v1, "--env", "prod")
    prod_live = _live(cli, "prod")

    # 1. The SQL retypes a contracted column, the YAML still declares the old type: the contract itself is broken.
    _edit(cli, MART_SQL, BUDGET_SQL, "cast(c.budget as double) as budget,")
    commit(cli.repo, "dim_campaigns: budget as double (contract not updated)")
    run(cli, "build")
    gate = _gate(run(cli, "deploy", release_id(cli.repo), "--env", "dev", expect=1))
    assert gate["outcome"] == "failed"
    assert "dim_campaigns breaks its contract" in gate["summary"], gate["summary"]
    assert "column budget: declared DECIMAL(12, 2), built DOUBLE" in gate["summary"], gate["summary"]

    # 2. The YAML follows, and campaign_name goes too: the contract holds, but columns dev serves today are
    # retyped (used by the real downstream mart) and removed (used by the reporting DAG's SQL only).
    _edit_contract(cli, "budget", "double")
    _edit(cli, MART_SQL, "c.campaign_name, ", "")
    _edit_contract(cli, "campaign_name", None)
    commit(cli.repo, "dim_campaigns: budget is a double, campaign_name dropped")
    run(cli, "build")
    gate = _gate(run(cli, "deploy", release_id(cli.repo), "--env", "dev", expect=1))
    assert gate["outcome"] == "failed" and gate["evidence"]["breaking"] == ["dim_campaigns"]
    summary = gate["summary"]
    assert "dim_campaigns breaking contract change" in summary, summary
    assert "budget retyped DECIMAL(12, 2) -> DOUBLE; consumers: model fct_campaign_budget_pacing (ref() in its " \
           "SQL, uses budget)" in summary, summary
    assert "campaign_name removed (was TEXT); consumers: dag campaign_report (SQL in the DAG file, uses " \
           "campaign_name)" in summary, summary
    # The downstream mart's own contract declares budget decimal(12,2): the retype breaks it too, and says so.
    assert "fct_campaign_budget_pacing breaks its contract" in summary, summary
    assert gate["evidence"]["violations"] == ["fct_campaign_budget_pacing"]
    consumers = gate["evidence"]["consumers"]["dim_campaigns"]
    assert consumers["campaign_name"] == ["dag campaign_report (SQL in the DAG file, uses campaign_name)"], consumers
    assert consumers["budget"] == ["model fct_campaign_budget_pacing (ref() in its SQL, uses budget)"], consumers

    # Nothing reached prod: it serves the same warehouse project, and the blocked releases cannot be promoted.
    assert _live(cli, "prod") == prod_live
    refused = run(cli, "promote", release_id(cli.repo), "--to", "prod", expect=1)
    assert refused["status"] == "blocked" and _live(cli, "prod") == prod_live

    # 3. The consumer adapts (keeps its own contract) and the release acknowledges the breaking change: passes,
    # and the acknowledgement is in the audit record.
    _edit(cli, PACING_SQL, "select c.campaign_id, c.budget,", "select c.campaign_id, cast(c.budget as decimal(12, 2)) "
                                                               "as budget,")
    commit(cli.repo, "fct_campaign_budget_pacing keeps budget as decimal(12,2); dim_campaigns change acknowledged")
    run(cli, "build", "--ack-breaking", "dim_campaigns:contract")
    v4 = release_id(cli.repo)
    gate = _gate(run(cli, "deploy", v4, "--env", "dev"))
    assert gate["outcome"] == "passed" and "acknowledged by the release" in gate["summary"], gate["summary"]
    assert gate["evidence"]["acknowledged"] == ["dim_campaigns"]
    assert "ack:dim_campaigns:contract" in json.dumps(run(cli, "audit", "export", v4))
    cli("audit", "verify")
