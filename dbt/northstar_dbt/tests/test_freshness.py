"""Freshness of bronze against the catalog SLAs, on real DuckDB and the real catalog and dbt project.

The loader records each table's real arrival; a table whose last arrival is older than its SLA (one schedule
interval + batch minutes, or the streaming freshness) is stale, and the ``freshness`` subcommand says so for the
bronze tables feeding the models the project changes in an environment -- here every model (the env is empty).
"""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from northstar_contracts.harness import UsageError
from northstar_dbt.arrivals import latest_arrivals, record_arrival
from northstar_dbt.bronze import ensure_bronze
from northstar_dbt.warehouse.cli import handle
from northstar_dbt.warehouse.freshness import judge, load_slas, schedule_interval_s

DBT = Path(__file__).resolve().parents[2]
CATALOG = DBT.parent / "pipelines" / "catalog"


def test_schedule_interval_is_the_longest_gap_between_fires() -> None:
    assert schedule_interval_s("5 * * * *", "x") == 3600
    assert schedule_interval_s("15 7 * * *", "x") == 86400
    assert schedule_interval_s("0 9 * * 1-5", "x") == 3 * 86400  # Friday 09:00 -> Monday 09:00
    with pytest.raises(UsageError, match="x: schedule 'every hour' is not a valid cron"):
        schedule_interval_s("every hour", "x")


def test_slas_come_from_the_catalogs_ingest_pipelines() -> None:
    slas = load_slas(CATALOG)
    pipeline, text, max_age = slas["retail_oltp__orders"]
    assert pipeline.startswith("ingest_") and max_age == 3600 + 20 * 60 and "batch 20 min" in text
    assert slas["kafka__order_events"][2] == 120
    assert all(not t.startswith("stg_") for t in slas)  # transform sinks are not bronze


def test_bad_catalog_names_the_file_and_rule(tmp_path: Path) -> None:
    (tmp_path / "pipelines").mkdir()
    bad = tmp_path / "pipelines" / "x.yaml"
    bad.write_text("pipelines:\n  - {id: p, kind: batch_ingest, sink: bronze.t, sla: {}}\n")
    with pytest.raises(UsageError, match=r"x\.yaml \(pipeline p\): an ingest pipeline needs sla.batch_minutes"):
        load_slas(tmp_path)


def test_arrival_log_and_judgement(tmp_path: Path) -> None:
    con = duckdb.connect(str(tmp_path / "wh.duckdb"))
    ensure_bronze(con, orders=20, days=1)
    now = datetime.now(UTC)
    (at, rows), = latest_arrivals(con, ["retail_oltp__orders"]).values()
    assert at is not None and abs((now - at).total_seconds()) < 600 and rows == 20
    sla = ("ingest_x", "schedule 5 * * * * (every 60 min) + batch 20 min", 4800.0)
    assert judge("retail_oltp__orders", ["stg"], sla, (at, rows), now).status == "fresh"
    con.execute("delete from bronze_meta.loads where table_name = 'retail_oltp__orders'")
    record_arrival(con, "retail_oltp__orders", 20, "test", loaded_at=now - timedelta(hours=3))
    (at, rows), = latest_arrivals(con, ["retail_oltp__orders"]).values()
    stale = judge("retail_oltp__orders", ["stg"], sla, (at, rows), now)
    assert stale.status == "stale" and stale.age_s is not None and stale.age_s > 4800
    assert judge("t", [], sla, (None, None), now).status == "never_loaded"
    assert judge("t", [], None, (at, rows), now).status == "no_sla"
    con.close()


def test_freshness_subcommand_blocks_on_a_stale_bronze_table(tmp_path: Path) -> None:
    project = tmp_path / "project"
    shutil.copytree(DBT, project, ignore=shutil.ignore_patterns(
        "target", "logs", ".cache", "*.duckdb", "__pycache__", "northstar_dbt", "northstar_dq"))
    wh = tmp_path / "wh" / "warehouse.duckdb"
    argv = ["freshness", "--project", str(project), "--warehouse", str(wh), "--env", "prod", "--catalog",
            str(CATALOG)]
    first = handle(argv)  # loads bronze now: every batch table has just arrived
    by_table = {t.table: t for t in first.record.tables}  # type: ignore[attr-defined]
    assert by_table["bronze.retail_oltp__orders"].status == "fresh"
    assert "stg_retail_oltp__orders" in by_table["bronze.retail_oltp__orders"].feeds

    con = duckdb.connect(str(wh))
    con.execute("delete from bronze_meta.loads where table_name = 'retail_oltp__orders'")
    record_arrival(con, "retail_oltp__orders", 300, "test", loaded_at=datetime.now(UTC) - timedelta(hours=3))
    con.close()
    second = handle(argv)
    assert second.code == 1
    report = second.record
    assert "bronze.retail_oltp__orders" in report.stale  # type: ignore[attr-defined]
    (orders,) = (t for t in report.tables if t.table == "bronze.retail_oltp__orders")  # type: ignore[attr-defined]
    assert orders.status == "stale" and orders.max_age_s == 4800 and orders.age_s > 3 * 3600 - 5
