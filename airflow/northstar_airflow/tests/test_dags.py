"""The production DAG folder (hand-written + catalog-generated): imports cleanly in ONE DagBag load, parses fast,
meets the new-DAG policies, carries the catalog's SLAs, reaches Spark only through env pointers, and runs."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from airflow.models.dagbag import DagBag
from airflow.operators.bash import BashOperator
from airflow.sensors.external_task import ExternalTaskSensor
from airflow.utils.state import DagRunState, TaskInstanceState

from northstar_airflow.dagbag_check import check_dag_policies
from northstar_airflow.tests.conftest import DAGS_DIR, GENERATED_DAGS_DIR, HAND_WRITTEN_DAG_IDS, expected_dag_ids, warm_airflow

MAX_PARSE_SECONDS_PER_FILE = 0.2
# What the DAG files import (pre-imported as the scheduler's parser does, see conftest.warm_airflow).
DAG_MODULES = ("airflow.operators.bash", "airflow.operators.python", "airflow.operators.empty", "airflow.datasets",
               "airflow.sensors.external_task", "airflow.sensors.python", "airflow.models.param")


@pytest.fixture(scope="module")
def dagbag() -> DagBag:
    warm_airflow(DAG_MODULES)
    return DagBag(dag_folder=str(DAGS_DIR), include_examples=False)


def test_no_import_errors(dagbag: DagBag) -> None:
    assert dagbag.import_errors == {}
    assert sorted(dagbag.dag_ids) == expected_dag_ids()
    assert len(dagbag.dag_ids) >= 35


def test_every_file_parses_fast(dagbag: DagBag) -> None:
    stats = {s.file: s.duration.total_seconds() for s in dagbag.dagbag_stats}
    assert len(stats) == len(list(DAGS_DIR.rglob("*.py")))
    print(f"DagBag parse: {len(stats)} files, total {sum(stats.values()):.3f} s, max {max(stats.values()):.3f} s")
    slow = {f: round(d, 3) for f, d in stats.items() if d > MAX_PARSE_SECONDS_PER_FILE}
    assert not slow, slow


def test_every_task_has_owner_and_retries(dagbag: DagBag) -> None:
    for dag in dagbag.dags.values():
        for task in dag.tasks:
            assert task.owner and task.owner != "airflow", f"{dag.dag_id}.{task.task_id}"
            assert (task.retries or 0) >= 1, f"{dag.dag_id}.{task.task_id}"
        assert dag.tags
        assert check_dag_policies(dag, dag.fileloc) == []


def test_generated_dags_carry_catalog_slas_and_datasets(dagbag: DagBag) -> None:
    generated = {p.stem for p in GENERATED_DAGS_DIR.glob("*.py")}
    assert len(generated) >= 30
    for dag_id in generated:
        dag = dagbag.dags[dag_id]
        assert "generated" in dag.tags
        for task in dag.tasks:
            assert isinstance(task, BashOperator)
            assert isinstance(task.sla, timedelta) and task.sla <= timedelta(minutes=45), f"{dag_id}.{task.task_id}"
            assert task.outlets, f"{dag_id}.{task.task_id} declares no Dataset"
    streaming = dagbag.dags["stream_order_events_supervisor"].tasks[0]
    assert streaming.sla == timedelta(seconds=120)


def test_spark_and_warehouse_are_reached_only_through_the_environment(dagbag: DagBag) -> None:
    for dag in dagbag.dags.values():
        for task in dag.tasks:
            command = getattr(task, "bash_command", "")
            if "spark-submit" in command:
                assert re.search(r"NORTHSTAR_ENV_DIR[^\n]*/spark/\w+\.current", command), f"{dag.dag_id}.{task.task_id}"
            if "sqlmesh" in command.lower():
                assert '"$live/LIVE"' in command and "NORTHSTAR_ENV" in command, f"{dag.dag_id}.{task.task_id}"
            assert "latest" not in command


def test_hand_written_cross_domain_dags(dagbag: DagBag) -> None:
    assert HAND_WRITTEN_DAG_IDS <= set(dagbag.dag_ids)
    close = dagbag.dags["finance_month_end_close"]
    sensors = {t.task_id: t for t in close.tasks if isinstance(t, ExternalTaskSensor)}
    assert {s.external_dag_id for s in sensors.values()} == {"ingest_finance_erp_daily", "transform_finance_marts"}
    assert all(s.mode == "reschedule" for s in sensors.values())
    assert close.get_task("mart_fct_trial_balance").sla == timedelta(minutes=40)
    replenish = dagbag.dags["supply_chain_replenishment"]
    upstreams = {t.external_dag_id for t in replenish.tasks if isinstance(t, ExternalTaskSensor)}
    assert upstreams <= set(dagbag.dag_ids) and len(upstreams) == 3
    assert type(dagbag.dags["retail_daily_dataset_driven"].timetable).__name__ == "DatasetTriggeredTimetable"
    assert dagbag.dags["warehouse_backfill"].schedule_interval is None


def test_backfill_params_are_validated() -> None:
    bag = DagBag(dag_folder=str(DAGS_DIR / "warehouse_backfill.py"), include_examples=False)
    check = bag.dags["warehouse_backfill"].get_task("validate_params").python_callable
    assert check(params={"select": "*.fct_orders", "start": "2024-01-01", "end": "2024-01-31"})["end"] == "2024-01-31"
    with pytest.raises(ValueError, match="at most 92 days"):
        check(params={"select": "*.fct_orders", "start": "2024-01-01", "end": "2024-12-31"})
    with pytest.raises(ValueError, match="may only hold"):
        check(params={"select": "x; rm -rf /", "start": "2024-01-01", "end": "2024-01-02"})


def test_orders_daily_shape(dagbag: DagBag) -> None:
    dag = dagbag.dags["orders_daily"]
    assert dag.catchup is False
    assert [t.task_id for t in dag.topological_sort()] == ["validate_orders", "summarise_orders", "publish"]


@pytest.mark.usefixtures("airflow_db")
def test_orders_daily_runs_end_to_end(dagbag: DagBag) -> None:
    dag = dagbag.dags["orders_daily"]
    dag_run = dag.test()
    assert dag_run.state == DagRunState.SUCCESS
    states = {ti.task_id: ti.state for ti in dag_run.get_task_instances()}
    assert states == dict.fromkeys(
        ["validate_orders", "summarise_orders", "publish"], TaskInstanceState.SUCCESS
    )
    summary = next(ti for ti in dag_run.get_task_instances() if ti.task_id == "summarise_orders").xcom_pull(
        task_ids="summarise_orders"
    )
    assert summary["orders"] == 2 and summary["revenue_cents"] == 6899 + 7950
