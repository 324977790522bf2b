"""Bad input: every broken rule is reported with file, key (pipeline id), line and rule; exit 1; nothing written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from northstar_catalog import CatalogError, load_catalog
from northstar_catalog.cli import main
from northstar_catalog.crosscheck import check_dbt_models, selector_models

SALES = Path("pipelines/catalog/pipelines/sales.yaml")


def _edit(repo: Path, rel: Path, old: str, new: str) -> None:
    path = repo / rel
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new, 1))


def _problems(repo: Path) -> list[tuple[str, str, int | None, str, str]]:
    with pytest.raises(CatalogError) as info:
        load_catalog(repo)
    return [(p.file, p.key, p.line, p.rule, p.message) for p in info.value.problems]


def _line_of(repo: Path, rel: Path, needle: str) -> int:
    return next(n for n, line in enumerate((repo / rel).read_text().splitlines(), 1) if needle in line)


def test_duplicate_key_names_file_and_line(repo_copy: Path) -> None:
    _edit(repo_copy, SALES, "    sink: bronze.retail_oltp__orders\n", "    sink: bronze.retail_oltp__orders\n    sink: bronze.x\n")
    [(file, _, line, rule, message)] = _problems(repo_copy)
    assert (file, rule) == (str(SALES), "duplicate-key")
    assert line == _line_of(repo_copy, SALES, "sink: bronze.x") and "'sink' appears twice" in message


def test_non_utf8_file(repo_copy: Path) -> None:
    path = repo_copy / SALES
    path.write_bytes(path.read_bytes().replace(b"Order-to-cash", b"Order-to-cash \xe9t\xe9", 1))
    [(file, _, line, rule, _)] = _problems(repo_copy)
    assert (file, line, rule) == (str(SALES), 3, "encoding")


def test_unknown_source(repo_copy: Path) -> None:
    _edit(repo_copy, SALES, "source: {postgres: retail_oltp.orders}", "source: {postgres: retail_oltp.orderz}")
    problems = _problems(repo_copy)
    assert [(p[1], p[3]) for p in problems] == [("pipelines(id=ingest_retail_oltp__orders).source", "unknown-source")]
    assert "retail_oltp.orderz" in problems[0][4] and problems[0][2] == _line_of(repo_copy, SALES, "id: ingest_retail_oltp__orders")


@pytest.mark.parametrize(
    ("old", "new", "key_suffix", "rule"),
    [
        ("sla: {batch_minutes: 20}", "sla: {batch_minutes: 50}", ".sla.batch_minutes", "sla-bound"),
        ("sla: {batch_minutes: 20}", "sla: {batch_minutes: 0}", ".sla.batch_minutes", "sla-bound"),
        ("sla: {batch_minutes: 20}", "sla: {freshness_seconds: 60}", "", "sla-kind"),
        ("sla: {batch_minutes: 20}", "sla: {batch_minutes: 20, freshness_seconds: 60}", ".sla", "sla-kind"),
    ],
)
def test_bad_batch_sla(repo_copy: Path, old: str, new: str, key_suffix: str, rule: str) -> None:
    _edit(repo_copy, SALES, old, new)
    problems = _problems(repo_copy)
    assert (problems[0][0], problems[0][3]) == (str(SALES), rule)
    assert problems[0][1] == "pipelines[0](id=ingest_retail_oltp__orders)" + key_suffix


def test_streaming_freshness_over_3_minutes(repo_copy: Path) -> None:
    _edit(repo_copy, SALES, "sla: {freshness_seconds: 120}", "sla: {freshness_seconds: 200}")
    [(file, key, line, rule, message)] = _problems(repo_copy)
    assert rule == "sla-bound" and key.endswith("(id=stream_kafka__order_events).sla.freshness_seconds")
    assert "less than 180" in message and line == _line_of(repo_copy, SALES, "freshness_seconds: 200")


@pytest.mark.parametrize(
    ("old", "new", "rule"),
    [
        ("spark_job: ingest_retail_oltp_cdc}", "spark_job: ingest_orders_magic}", "unknown-spark-job"),
        ("runs: {dag: ingest_retail_oltp_hourly,", "runs: {dag: no_such_dag,", "unknown-dag"),
        ("sink: bronze.retail_oltp__orders", "sink: bronze.orders", "sink-contract"),
        ("    tags: [finance]\n    runs: {dag: ingest_retail_oltp_hourly, spark_job: ingest_retail_oltp_cdc}",
         "    tags: []\n    runs: {dag: ingest_retail_oltp_hourly, spark_job: ingest_retail_oltp_cdc}", "source-tags"),
        ("schedule: 5 * * * *", "schedule: 7 * * * *", "dag-schedule"),
        ("schedule: 5 * * * *", "schedule: every hour", "schedule"),
        ("kind: batch_ingest", "kind: batch", "enum"),
        ("    owner: commerce-data\n", "    owner: commerce-data\n    colour: blue\n", "extra_forbidden"),
    ],
)
def test_each_rule_is_named(repo_copy: Path, old: str, new: str, rule: str) -> None:
    _edit(repo_copy, SALES, old, new)
    problems = _problems(repo_copy)
    assert rule in {p[3] for p in problems}, problems
    assert all(p[0] == str(SALES) and "ingest_retail_oltp__orders" in p[1] for p in problems if p[3] == rule)


def test_unknown_upstream_duplicate_id_and_cycle(repo_copy: Path) -> None:
    _edit(repo_copy, SALES, "source: {upstream: [ingest_retail_oltp__orders]}", "source: {upstream: [ingest_retail_oltp__ordrs]}")
    finance = Path("pipelines/catalog/pipelines/finance.yaml")
    _edit(repo_copy, finance, "  - id: mart_fct_refunds\n", "  - id: mart_fct_sales_orders\n")
    _edit(repo_copy, Path("pipelines/catalog/pipelines/inventory.yaml"),
          "source: {upstream: [staging_retail_oltp__warehouses]}", "source: {upstream: [mart_fct_inventory_daily]}")
    _edit(repo_copy, Path("pipelines/catalog/pipelines/inventory.yaml"),
          "source: {upstream: [staging_retail_oltp__inventory_snapshots, staging_retail_oltp__products]}",
          "source: {upstream: [mart_dim_warehouses]}")
    rules = {(p[3], re.sub(r"\[\d+\]", "", p[1])) for p in _problems(repo_copy)}
    assert ("unknown-upstream", "pipelines(id=staging_retail_oltp__orders).source.upstream") in rules
    assert ("unique-id", "pipelines(id=mart_fct_sales_orders)") in rules
    assert any(rule == "upstream-cycle" for rule, _ in rules)


def test_hand_written_dag_must_exist_and_run_its_pipelines(repo_copy: Path) -> None:
    (repo_copy / "airflow/dags/supply_chain_replenishment.py").unlink()
    text = (repo_copy / "airflow/dags/finance_month_end_close.py").read_text()
    (repo_copy / "airflow/dags/finance_month_end_close.py").write_text(text.replace('task_id="mart_fct_ap_aging"', 'task_id="ap"'))
    problems = {(p[1], p[3]) for p in _problems(repo_copy)}
    assert problems == {("dags(id=supply_chain_replenishment).file", "dag-file"), ("dags(id=finance_month_end_close).file", "dag-task")}


def test_cli_reports_problems_exits_1_and_writes_nothing(repo_copy: Path) -> None:
    _edit(repo_copy, SALES, "sla: {batch_minutes: 20}", "sla: {batch_minutes: 90}")
    generated = repo_copy / "airflow/dags/generated/ingest_retail_oltp_hourly.py"
    before = generated.read_bytes()
    runner = CliRunner()
    result = runner.invoke(main, ["--root", str(repo_copy), "gen-dags"])
    assert result.exit_code == 1
    assert f"{SALES}:" in result.output and "[sla-bound]" in result.output and "ingest_retail_oltp__orders" in result.output
    assert generated.read_bytes() == before
    as_json = runner.invoke(main, ["--root", str(repo_copy), "validate", "--json"])
    assert as_json.exit_code == 1 and '"rule": "sla-bound"' in as_json.output


def test_stale_generated_dag_is_detected_and_regenerated(repo_copy: Path) -> None:
    _edit(repo_copy, SALES, "sla: {batch_minutes: 20}", "sla: {batch_minutes: 25}")
    runner = CliRunner()
    check = runner.invoke(main, ["--root", str(repo_copy), "gen-dags", "--check"])
    assert check.exit_code == 1 and "stale: airflow/dags/generated/ingest_retail_oltp_hourly.py" in check.output
    assert runner.invoke(main, ["--root", str(repo_copy), "gen-dags"]).exit_code == 0
    assert runner.invoke(main, ["--root", str(repo_copy), "gen-dags", "--check"]).exit_code == 0
    assert "timedelta(minutes=25)" in (repo_copy / "airflow/dags/generated/ingest_retail_oltp_hourly.py").read_text()


def test_dbt_selectors_are_checked_against_the_dbt_project(repo_copy: Path, tmp_path: Path) -> None:
    catalog = load_catalog(repo_copy)
    names = {n for e in catalog.pipelines.values() for n in selector_models(e.pipeline.runs.dbt_selector or "")}
    project = tmp_path / "dbt"
    for name in names:
        (project / "models" / "x").mkdir(parents=True, exist_ok=True)
        (project / "models" / "x" / f"{name}.sql").write_text("select 1")
    runner = CliRunner()
    assert runner.invoke(main, ["--root", str(repo_copy), "validate", "--dbt-project", str(project)]).exit_code == 0
    (project / "models" / "x" / "fct_gl_trial_balance.sql").unlink()
    result = runner.invoke(main, ["--root", str(repo_copy), "validate", "--dbt-project", str(project)])
    assert result.exit_code == 1
    assert "pipelines(id=mart_fct_gl_trial_balance).runs.dbt_selector: [unknown-model]" in result.output
    assert check_dbt_models(catalog, tmp_path / "empty")[0].rule == "no-dbt-models"
