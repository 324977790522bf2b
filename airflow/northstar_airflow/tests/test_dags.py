"""The production DAG folder imports cleanly, meets the new-DAG policies and actually runs."""

from __future__ import annotations

import pytest
from airflow.models.dagbag import DagBag
from airflow.utils.state import DagRunState, TaskInstanceState

from northstar_airflow.dagbag_check import check_dag_policies
from northstar_airflow.tests.conftest import DAGS_DIR


@pytest.fixture(scope="module")
def dagbag() -> DagBag:
    return DagBag(dag_folder=str(DAGS_DIR), include_examples=False)


def test_no_import_errors(dagbag: DagBag) -> None:
    assert dagbag.import_errors == {}
    assert sorted(dagbag.dag_ids) == ["orders_daily"]


def test_every_task_has_owner_and_retries(dagbag: DagBag) -> None:
    for dag in dagbag.dags.values():
        for task in dag.tasks:
            assert task.owner and task.owner != "airflow", f"{dag.dag_id}.{task.task_id}"
            assert (task.retries or 0) >= 1, f"{dag.dag_id}.{task.task_id}"
        assert dag.tags
        assert check_dag_policies(dag, dag.fileloc) == []


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
