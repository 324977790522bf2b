"""Issue 10, deliver 4 through the real CLI: a Spark job's declared output is checked against the models that read
its bronze table before anything switches.

Real files: the platform's pipeline catalog (which Spark job writes ``bronze.retail_oltp__stores``: the CDC job
``ingest_retail_oltp_cdc``; its columns: ``sources.yaml``, from which the job's ``bronze_schema`` is generated) and the
real staging model ``stg_retail_oltp__stores`` reading it, built by the real warehouse entry point (SQLMesh on
DuckDB) for v1. The change drops one column the model uses and retypes another: blocked at dev naming the job, the
column and the consumer model; prod keeps v1.
"""

from __future__ import annotations

import shutil

import pytest

from northstar_release.tests.dbt_slice import copy_dbt_slice
from northstar_release.tests.helpers import REPO, commit, fake_checker_cmd, git, release_id
from northstar_release.tests.test_gates_e2e import WarehouseCli, run
from northstar_secrets.baseline import write_baseline

SOURCES = "pipelines/catalog/sources.yaml"
STORES = ("      stores: {pk: store_id, columns: {store_id: int, store_code: varchar, store_name: varchar, region: "
          "varchar, country_code: varchar, opened_on: date, floor_area_m2: int, updated_at: timestamp}}")
ENVIRONMENTS = """\
environments:
  dev:
    order: 1
    promotion: automatic
    gates: [spark_consumers]
    backend: local
  prod:
    order: 2
    promotion: automatic
    previous: dev
    gates: [spark_consumers]
    backend: local
"""


@pytest.fixture(scope="module")
def cli(tmp_path_factory: pytest.TempPathFactory) -> WarehouseCli:
    root = tmp_path_factory.mktemp("spark-consumers")
    repo = root / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    git(repo, "config", "user.email", "alice@northstar.test")
    git(repo, "config", "user.name", "alice")
    copy_dbt_slice(repo, ["stg_retail_oltp__stores"])
    for folder in ("pipelines/catalog/pipelines",):
        shutil.copytree(REPO / folder, repo / folder, ignore=shutil.ignore_patterns("BUILD", "__pycache__"))
    shutil.copy(REPO / SOURCES, repo / SOURCES)
    write_baseline([repo / "dbt" / "config.py"], repo, repo / ".secrets.baseline")
    (repo / "pipelines" / "environments.yaml").write_text(ENVIRONMENTS)
    (repo / ".gitignore").write_text(".release-state/\n")
    commit(repo, "v1")
    return WarehouseCli(repo, root / "state", fake_checker_cmd(root))


def _gate(doc: dict) -> dict:
    (result,) = (g for g in doc["gate_results"] if g["gate"] == "spark_consumers")
    return result


def _live(cli: WarehouseCli, env: str) -> str:
    return (cli.state_dir / "envs" / env / "warehouse" / "LIVE").read_text().strip()


def test_spark_output_column_dropped_or_retyped_under_a_staging_model_is_blocked_before_prod(cli: WarehouseCli) -> None:
    run(cli, "build")
    v1 = release_id(cli.repo)
    first = _gate(run(cli, "deploy", v1, "--env", "dev"))
    assert first["outcome"] == "passed" and "every used column is written" in first["summary"], first["summary"]
    assert any("stg_retail_oltp__stores" in c and "region" in c
               for c in first["evidence"]["consumers"]["ingest_retail_oltp_cdc -> bronze.retail_oltp__stores"])
    run(cli, "deploy", v1, "--env", "prod")
    prod_live = _live(cli, "prod")

    # The CDC job's contract for stores drops `region` and widens `floor_area_m2`; the staging model reads both.
    path = cli.repo / SOURCES
    text = path.read_text()
    assert STORES in text
    changed = STORES.replace(" region: varchar,", "").replace("floor_area_m2: int", "floor_area_m2: bigint")
    path.write_text(text.replace(STORES, changed))
    commit(cli.repo, "stores contract: drop region, floor_area_m2 bigint")
    run(cli, "build")
    gate = _gate(run(cli, "deploy", release_id(cli.repo), "--env", "dev", expect=1))
    summary = gate["summary"]
    assert gate["outcome"] == "failed"
    assert ("Spark job ingest_retail_oltp_cdc -> bronze.retail_oltp__stores: region is no longer written (was "
            "varchar); used by model stg_retail_oltp__stores (source() in its SQL)") in summary, summary
    assert "floor_area_m2 retyped int -> bigint; used by model stg_retail_oltp__stores" in summary, summary
    found = {(f["column"], f["consumer"]) for f in gate["evidence"]["findings"]}
    assert found == {("region", "stg_retail_oltp__stores"), ("floor_area_m2", "stg_retail_oltp__stores")}
    # Dropping a column no consumer reads is fine: the lineage column of the bronze table (_source_file) is unused.
    assert "_source_file" not in summary

    assert _live(cli, "prod") == prod_live
    refused = run(cli, "promote", release_id(cli.repo), "--to", "prod", expect=1)
    assert refused["status"] == "blocked" and _live(cli, "prod") == prod_live


def test_a_promotion_against_the_same_baseline_reuses_the_verdict(cli: WarehouseCli) -> None:
    """The verdict is a function of the release's commit and the baseline commit (prod's live one): entering prod
    with the baseline dev's run used reuses dev's evidence, pointing at it; the first run in dev is computed."""
    v1_commit = git(cli.repo, "rev-list", "--max-parents=0", "HEAD")
    path = cli.repo / SOURCES
    text = path.read_text()
    changed = STORES.replace(" region: varchar,", "").replace("floor_area_m2: int", "floor_area_m2: bigint")
    assert changed in text  # left by the test above: restore the v1 contract
    path.write_text(text.replace(changed, STORES))
    commit(cli.repo, "stores contract: restored")
    run(cli, "build")
    v3 = release_id(cli.repo)
    in_dev = _gate(run(cli, "deploy", v3, "--env", "dev"))
    assert in_dev["outcome"] == "passed" and in_dev["reused_from"] is None, in_dev
    assert in_dev["evidence"]["baseline_commit"] == v1_commit  # prod's live commit
    in_prod = _gate(run(cli, "promote", v3, "--to", "prod"))
    assert in_prod["outcome"] == "passed" and in_prod["reused_from"]["env"] == "dev", in_prod
    assert f"same baseline {v1_commit[:12]}" in in_prod["summary"], in_prod["summary"]
    assert in_prod["evidence"] == in_dev["evidence"]
    assert _live(cli, "prod") == _live(cli, "dev")
