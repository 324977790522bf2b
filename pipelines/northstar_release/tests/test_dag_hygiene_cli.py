"""DAG hygiene through the real release CLI and the real dagbag_check: a bad DAG bundle is blocked before prod."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from northstar_release.tests.helpers import GOOD_DAG, Cli, airflow_entrypoint, commit, make_repo, release_id

SLOW_DAG = "import time\ntime.sleep(2)  # top-level work: every scheduler parse of this file pays it\n" + GOOD_DAG


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path)


@pytest.fixture
def real(repo: Path, tmp_path: Path) -> Cli:
    return Cli(repo, tmp_path / "state", airflow_entrypoint())


def test_duplicate_dag_id_and_slow_parse_are_blocked_before_prod(real: Cli, repo: Path) -> None:
    cli = real
    cli("build")
    good = release_id(repo)
    cli("deploy", good, "--env", "dev")
    cli("promote", good, "--to", "staging")
    cli("--as", "bob@northstar.test", "approve", good, "--env", "prod")
    cli("--as", "carol@northstar.test", "promote", good, "--to", "prod")
    prod_before, dev_before = cli.live_target("prod"), cli.live_target("dev")
    assert prod_before is not None

    dags = repo / "airflow" / "dags"
    (dags / "sales_daily_copy.py").write_text((dags / "sales_daily.py").read_text())  # same dag_id, second file
    (dags / "slow_report.py").write_text(SLOW_DAG.format(dag_id="slow_report", version=1))
    commit(repo, "copy of sales_daily and a DAG that sleeps at import")
    cli("build")
    bad = release_id(repo)

    res = cli("deploy", bad, "--env", "dev", "--json", expect=1)
    out = res.stdout + res.stderr
    assert "duplicate-dag-id" in out and "dags/sales_daily.py" in out and "dags/sales_daily_copy.py" in out
    assert "parse-time" in out and "dags/slow_report.py" in out
    assert cli.live_target("dev") == dev_before
    # It never got into an environment, so it cannot be promoted on: prod keeps the good bundle.
    cli("--as", "bob@northstar.test", "approve", bad, "--env", "prod", expect=None)
    cli("--as", "carol@northstar.test", "promote", bad, "--to", "prod", expect=1)
    assert cli.live_target("prod") == prod_before
    hist = json.loads(cli("history", "--env", "dev", "--json").stdout)["deployments"]
    assert hist[0]["status"] == "blocked"
    cli.audit_ok()
