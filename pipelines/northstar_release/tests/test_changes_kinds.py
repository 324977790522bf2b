"""changes.py maps a changed path to the release kinds (and so the gates) it feeds by the longest KindSpec source
root, not the first folder: an event schema file is an event_schemas change (schema_compat), a catalog-only change
ships in the DAG bundle (and sources.yaml reaches the Spark jobs and the warehouse), and a Spark lockfile change
reaches, through lineage, every Spark job and the models and DAGs downstream of them."""

from __future__ import annotations

import shutil
from pathlib import Path

from northstar_release.adapters.event_schemas import KIND as EVENT_SCHEMAS
from northstar_release.changes import compute_change_plan, kinds_of, plan_changes
from northstar_release.model import ArtifactKind
from northstar_release.tests.helpers import REPO, commit, git, make_repo

SCHEMA = "pipelines/catalog/schemas/orders.order_events.v1/v1.avsc"


def test_paths_map_to_their_kinds_by_the_longest_source_root() -> None:
    assert kinds_of(SCHEMA) == [EVENT_SCHEMAS]
    assert kinds_of("pipelines/catalog/dags.yaml") == [ArtifactKind.DAG_BUNDLE]
    assert kinds_of("pipelines/catalog/sources.yaml") == [ArtifactKind.DAG_BUNDLE, ArtifactKind.SPARK_JOB,
                                                          ArtifactKind.WAREHOUSE_PROJECT]
    assert kinds_of("3rdparty/python/spark.lock") == [ArtifactKind.SPARK_JOB]
    assert kinds_of("dbt/models/marts/fct_orders.sql") == [ArtifactKind.WAREHOUSE_PROJECT]
    assert kinds_of("spark:daily_revenue") == [ArtifactKind.SPARK_JOB]
    assert kinds_of("pipelines/northstar_release/cli/build.py") == []  # the release tool itself ships in no kind


def test_event_schema_and_catalog_changes_get_their_gates() -> None:
    plan = plan_changes([SCHEMA, "pipelines/catalog/sources.yaml"], [], "base")
    units = {u.kind: u for u in plan.units}
    assert "schema_compat" in units[EVENT_SCHEMAS].gates
    assert "contract" in units[ArtifactKind.WAREHOUSE_PROJECT].gates
    assert {ArtifactKind.DAG_BUNDLE, ArtifactKind.SPARK_JOB} <= set(units)
    assert plan.unmapped == []


def test_spark_lockfile_change_reaches_downstream_models_and_dags(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    for folder in ("dbt/models", "dbt/seeds", "dbt/dbt_packages", "pipelines/catalog", "airflow/dags",
                   "spark/northstar_spark/jobs"):
        shutil.copytree(REPO / folder, repo / folder, dirs_exist_ok=True,
                        ignore=shutil.ignore_patterns("__pycache__", "BUILD", "target", "logs"))
    shutil.copy(REPO / "dbt" / "dbt_project.yml", repo / "dbt" / "dbt_project.yml")
    (repo / "3rdparty" / "python").mkdir(parents=True)
    lock = repo / "3rdparty" / "python" / "spark.lock"
    lock.write_text("// the spark resolve's lockfile (content irrelevant: the path decides)\n")
    base = commit(repo, "platform")
    lock.write_text(lock.read_text() + "\n// bumped pyspark\n")
    commit(repo, "spark lockfile change")
    plan = compute_change_plan(repo, base, None)
    (impact,) = plan.impacts
    assert impact.path == "3rdparty/python/spark.lock" and impact.kind == "lockfile"
    assert {"ingest_retail_oltp_cdc", "stream_order_events"} <= set(impact.spark_jobs)
    assert {"stg_retail_oltp__stores", "fct_revenue_recognition"} <= set(impact.models)
    assert "ingest_retail_oltp_hourly" in impact.dags
    assert "finance" in impact.tags  # order data feeds finance marts: the lockfile change needs finance approvals
    assert {"contract", "spark_consumers"} <= set(impact.gates)
    assert git(repo, "status", "--porcelain") == ""
