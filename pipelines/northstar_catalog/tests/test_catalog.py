"""The real catalog: it loads, has the platform's shape, and the generated DAGs match it."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from northstar_catalog import Catalog, load_catalog
from northstar_catalog.cli import main
from northstar_catalog.dagcodegen import stale_files
from northstar_catalog.model import SPARK_JOBS, Kind
from northstar_catalog.runtime_commands import sqlmesh_selector

REPO = Path.cwd()


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog(REPO)


def test_catalog_has_the_platform_shape(catalog: Catalog) -> None:
    kinds = {k: sum(e.pipeline.kind == k for e in catalog.pipelines.values()) for k in Kind}
    assert len(catalog.pipelines) >= 120
    assert len(catalog.dags) >= 35
    assert kinds[Kind.STREAMING_INGEST] >= 4 and kinds[Kind.EXPORT] >= 2 and kinds[Kind.BATCH_INGEST] >= 30
    assert {e.domain for e in catalog.pipelines.values()} == {"sales", "customers", "inventory", "supply_chain", "marketing",
                                                              "finance", "stores"}
    used_jobs = {e.pipeline.runs.spark_job for e in catalog.pipelines.values()} - {None}
    assert used_jobs == SPARK_JOBS  # every one of the 20 Spark jobs runs at least one pipeline


def test_every_source_table_is_ingested_except_clickstream(catalog: Catalog) -> None:
    """Every sources.yaml table has exactly one ingestion pipeline. web.clickstream.v1 waits for a stream_clickstream
    Spark job (not one of the 20 jobs), so it is deliberately not in the catalog yet."""
    spec = yaml.safe_load((REPO / "pipelines/catalog/sources.yaml").read_text())
    tables = {f"bronze.{s}__{t}" for s, body in spec["systems"].items() for t in body["tables"]}
    sinks = [e.pipeline.sink for e in catalog.pipelines.values() if e.pipeline.kind in (Kind.BATCH_INGEST, Kind.STREAMING_INGEST)]
    assert len(sinks) == len(set(sinks))
    assert tables - set(sinks) == {"bronze.kafka__clickstream"}


def test_generated_dags_are_up_to_date(catalog: Catalog) -> None:
    assert stale_files(catalog) == [], "run: python -m northstar_catalog gen-dags"


def test_watchdog_slas_match_the_catalog(catalog: Catalog) -> None:
    tree = ast.parse((REPO / "airflow/dags/streaming_freshness_watchdog.py").read_text())
    literal = next(ast.literal_eval(n.value) for n in tree.body
                   if isinstance(n, ast.Assign) and getattr(n.targets[0], "id", "") == "FRESHNESS_SLA_SECONDS")
    expected = {e.pipeline.sink.removeprefix("bronze."): e.pipeline.sla.freshness_seconds
                for e in catalog.pipelines.values() if e.pipeline.kind == Kind.STREAMING_INGEST}
    assert literal == expected


def test_cli_validate_list_show() -> None:
    runner = CliRunner()
    ok = runner.invoke(main, ["--root", str(REPO), "validate", "--json"])
    assert ok.exit_code == 0, ok.output
    assert json.loads(ok.output)["valid"] is True
    listed = runner.invoke(main, ["--root", str(REPO), "list", "--tag", "finance", "--kind", "export", "--json"])
    assert [p["id"] for p in json.loads(listed.output)] == ["export_finance_ledger_s3"]
    shown = runner.invoke(main, ["--root", str(REPO), "show", "ingest_retail_oltp__orders", "--json"])
    data = json.loads(shown.output)
    assert data["source"] == {"postgres": "retail_oltp.orders"} and "staging_retail_oltp__orders" in data["downstream"]
    dag = json.loads(runner.invoke(main, ["--root", str(REPO), "show", "transform_finance_marts", "--json"]).output)
    assert "finance" in dag["tags"] and "mart_fct_gl_journal_lines" in dag["pipelines"]
    missing = runner.invoke(main, ["--root", str(REPO), "show", "no_such_pipeline"])
    assert missing.exit_code == 2 and "no pipeline or DAG" in missing.output
    helped = runner.invoke(main, ["--help"])
    assert helped.exit_code == 0 and "gen-dags" in helped.output


@pytest.mark.parametrize(("dbt", "sqlmesh"), [("fct_orders", "*.fct_orders"), ("+fct_orders", "+*.fct_orders"),
                                              ("tag:finance", "tag:finance"), ("a b+", "*.a *.b+")])
def test_dbt_selectors_translate_to_sqlmesh(dbt: str, sqlmesh: str) -> None:
    assert sqlmesh_selector(dbt) == sqlmesh


def test_bad_selector_is_refused() -> None:
    with pytest.raises(ValueError, match="is not a model name"):
        sqlmesh_selector("path:models/marts")
