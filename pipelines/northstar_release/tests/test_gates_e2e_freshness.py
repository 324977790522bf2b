"""Issue 11 deliver 3 through the real CLI: a bronze table that has not arrived within its catalog SLA in the
candidate env blocks promotion of the models downstream of it -- and only of those.

Real components only: the ``warehouse`` entry point (SQLMesh over a slice of the repository's dbt project on DuckDB),
the release CLI as a subprocess, the repository's own pipeline catalog (committed in the release's commit, where the
gate reads it). The slice: the 5-model pilot plus two generated staging models reading bronze --
``stg_retail_oltp__customers`` (bronze.retail_oltp__customers: hourly ingest + 20 min = 80 min) and
``stg_retail_oltp__brands`` (bronze.retail_oltp__brands: daily ingest + 30 min).

The ingestion stopping is simulated where it is recorded: the last logged load of bronze.retail_oltp__customers in
the env's warehouse (``bronze_meta.loads``) is moved three hours back, with DuckDB from the warehouse PEX itself (the
tools resolve has no DuckDB).
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from northstar_release.tests.helpers import REPO, commit, fake_checker_cmd, git, release_id
from northstar_release.tests.pilot_dbt import copy_pilot_dbt
from northstar_release.tests.test_gates_e2e import WarehouseCli, run
from northstar_release.tests.test_warehouse_adapter import warehouse_entrypoint
from northstar_secrets.baseline import write_baseline

STAGING = "dbt/models/staging/retail_oltp"
CUSTOMERS = f"{STAGING}/stg_retail_oltp__customers.sql"
BRANDS = f"{STAGING}/stg_retail_oltp__brands.sql"
LAST_COLUMN = "_ingested_at as ingested_at\nfrom"
ENVIRONMENTS = """\
environments:
  dev:
    order: 1
    promotion: automatic
    gates: [freshness]
    backend: local
  prod:
    order: 2
    promotion: automatic
    gates: []
    backend: local
"""


def add_column(repo: Path, rel: str, name: str) -> None:
    path = repo / rel
    text = path.read_text()
    assert LAST_COLUMN in text, rel
    path.write_text(text.replace(LAST_COLUMN, f"_ingested_at as ingested_at,\n    1 as {name}\nfrom", 1))


def backdate_last_load(warehouse: Path, table: str, hours: int) -> None:
    """Move ``table``'s logged loads ``hours`` back, with the DuckDB of the warehouse entry point's own PEX."""
    argv = shlex.split(warehouse_entrypoint())
    code = ("import duckdb, sys; con = duckdb.connect(sys.argv[1]); "
            "con.execute(\"update bronze_meta.loads set loaded_at = loaded_at - to_hours(?) where table_name = ?\", "
            "[int(sys.argv[3]), sys.argv[2]]); con.close()")
    proc = subprocess.run([*argv[:1], "-c", code, str(warehouse), table, str(hours)], capture_output=True, text=True,
                          env={**os.environ, "PEX_INTERPRETER": "1"}, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]


def freshness(doc: dict[str, Any]) -> dict[str, Any]:
    (result,) = (g for g in doc["gate_results"] if g["gate"] == "freshness")
    return result


@pytest.fixture(scope="module")
def cli(tmp_path_factory: pytest.TempPathFactory) -> WarehouseCli:
    root = tmp_path_factory.mktemp("freshness-e2e")
    repo = root / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    git(repo, "config", "user.email", "alice@northstar.test")
    git(repo, "config", "user.name", "alice")
    copy_pilot_dbt(repo / "dbt", "northstar_dbt", "northstar_dq")
    (repo / STAGING).mkdir(parents=True)
    for name in ("_retail_oltp__sources.yml", "stg_retail_oltp__customers.sql", "stg_retail_oltp__brands.sql"):
        shutil.copy(REPO / STAGING / name, repo / STAGING / name)
    shutil.copytree(REPO / "pipelines" / "catalog" / "pipelines", repo / "pipelines" / "catalog" / "pipelines",
                    ignore=shutil.ignore_patterns("*.md"))
    write_baseline([repo / "dbt" / "config.py"], repo, repo / ".secrets.baseline")
    (repo / "pipelines" / "environments.yaml").write_text(ENVIRONMENTS)
    (repo / ".gitignore").write_text(".release-state/\n")
    commit(repo, "v1")
    return WarehouseCli(repo, root / "state", fake_checker_cmd(root))


def test_stale_bronze_blocks_only_the_models_downstream_of_it(cli: WarehouseCli) -> None:
    repo = cli.repo
    run(cli, "build")
    v1 = release_id(repo)
    first = freshness(run(cli, "deploy", v1, "--env", "dev"))  # dev is new: every model counts as changed
    assert first["outcome"] == "passed", first["summary"]
    status = {t["table"]: t["status"] for t in first["evidence"]["tables"]}
    assert status["bronze.retail_oltp__customers"] == status["bronze.retail_oltp__brands"] == "fresh", status

    # Ingestion of customers stops: its last arrival in the env's warehouse is now three hours old (SLA 80 min).
    backdate_last_load(cli.state_dir / "warehouse" / "warehouse.duckdb", "retail_oltp__customers", 3)

    add_column(repo, CUSTOMERS, "loyalty_flag")
    commit(repo, "stg_retail_oltp__customers: a new column")
    run(cli, "build")
    v2 = release_id(repo)
    blocked = run(cli, "deploy", v2, "--env", "dev", expect=1)
    assert blocked["status"] == "blocked"
    gate = freshness(blocked)
    assert gate["outcome"] == "failed"
    (table,) = (t for t in gate["evidence"]["tables"] if t["table"] == "bronze.retail_oltp__customers")
    assert table["status"] == "stale" and table["pipeline"] == "ingest_retail_oltp__customers"
    assert table["max_age_s"] == 80 * 60 and table["age_s"] > 3 * 3600 - 60
    assert any("stg_retail_oltp__customers" in f for f in table["feeds"])
    assert "bronze.retail_oltp__customers (ingest_retail_oltp__customers): stale" in gate["summary"], gate["summary"]
    assert gate["evidence"]["stale"] == ["bronze.retail_oltp__customers"]
    live = (cli.state_dir / "envs" / "dev" / "warehouse" / "LIVE").read_text().strip()
    assert live == run(cli, "show", v1)["release"]["artifacts"][0]["sha256"]  # dev still serves v1

    # A release that changes only the brands model (its bronze table is on time) is not held by customers' delay.
    (repo / CUSTOMERS).write_text((REPO / CUSTOMERS).read_text())
    add_column(repo, BRANDS, "brand_flag")
    commit(repo, "stg_retail_oltp__brands: a new column (customers change withdrawn)")
    run(cli, "build")
    v3 = release_id(repo)
    passed = run(cli, "deploy", v3, "--env", "dev")
    gate = freshness(passed)
    assert passed["status"] == "succeeded" and gate["outcome"] == "passed", gate["summary"]
    checked = {t["table"] for t in gate["evidence"]["tables"]}
    assert "bronze.retail_oltp__brands" in checked and "bronze.retail_oltp__customers" not in checked, checked
    export = json.dumps(run(cli, "audit", "export", v2))
    assert "ingest_retail_oltp__customers" in export and "stale" in export
    cli("audit", "verify")
