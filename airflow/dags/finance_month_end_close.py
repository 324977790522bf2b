"""Month-end close: trial balance and AP aging once the month's last ERP snapshot and finance marts are in.

Why hand-written: it depends on two other DAGs' runs for the *last day of the closed month* (ExternalTaskSensor
with a computed logical date, in reschedule mode so waiting costs no worker slot), and its tasks carry the catalog's
40-minute SLAs with a callback that tells finance when the close is late. Models run through SQLMesh in this
environment's live warehouse project; nothing is resolved at parse time.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from airflow import DAG
from airflow.datasets import Dataset
from airflow.operators.bash import BashOperator
from airflow.operators.empty import EmptyOperator
from airflow.sensors.external_task import ExternalTaskSensor

OWNER = "finance-data"
# The live warehouse project of this environment (release engine: <env_dir>/warehouse/LIVE), run by SQLMesh.
SQLMESH_RUN = (
    'set -eu\nlive="${NORTHSTAR_ENV_DIR:?NORTHSTAR_ENV_DIR is not set}/warehouse"\nproject="$live/$(cat "$live/LIVE")"\n'
    'exec ${NORTHSTAR_SQLMESH:-sqlmesh} --paths "$project" run "${NORTHSTAR_ENV:?NORTHSTAR_ENV is not set}" --select-model "$MODELS"'
)


def last_day_of_month_at(hour: int, minute: int = 0) -> Any:
    """execution_date_fn: the daily upstream run whose logical date is the closed month's last day at hh:mm."""

    def fn(logical_date: datetime, **_: Any) -> datetime:
        first_of_next = (logical_date.replace(day=28) + timedelta(days=4)).replace(day=1)
        return (first_of_next - timedelta(days=1)).replace(hour=hour, minute=minute, second=0, microsecond=0)

    return fn


def close_is_late(dag: Any, task_list: str, blocking_task_list: str, slas: Any, blocking_tis: Any) -> None:
    """SLA miss: the close is late. Logged loudly; the alerting stack forwards SLA misses to #finance-close."""
    logging.getLogger("northstar.finance_close").error("month-end close SLA missed: %s (blocked by %s)", task_list,
                                                       blocking_task_list)


with DAG(
    dag_id="finance_month_end_close",
    description="Month-end close: trial balance and AP aging after the last ERP snapshot and finance marts.",
    schedule="0 6 1 * *",
    start_date=datetime(2024, 1, 1),
    catchup=False,
    max_active_runs=1,
    default_args={"owner": OWNER, "retries": 2, "retry_delay": timedelta(minutes=10)},
    sla_miss_callback=close_is_late,
    tags=["finance", "month_end"],
    doc_md=__doc__,
) as dag:
    wait_erp = ExternalTaskSensor(
        task_id="wait_for_erp_snapshot",
        external_dag_id="ingest_finance_erp_daily",
        external_task_id=None,
        execution_date_fn=last_day_of_month_at(2),
        mode="reschedule",
        poke_interval=300,
        timeout=6 * 3600,
    )
    wait_marts = ExternalTaskSensor(
        task_id="wait_for_finance_marts",
        external_dag_id="transform_finance_marts",
        external_task_id="mart_fct_gl_journal_lines",
        execution_date_fn=last_day_of_month_at(6),
        mode="reschedule",
        poke_interval=300,
        timeout=6 * 3600,
    )
    trial_balance = BashOperator(
        task_id="mart_fct_trial_balance",
        bash_command=SQLMESH_RUN,
        env={"MODELS": "*.fct_trial_balance"},
        append_env=True,
        sla=timedelta(minutes=40),
        outlets=[Dataset("northstar://marts/fct_trial_balance")],
    )
    ap_aging = BashOperator(
        task_id="mart_fct_ap_aging",
        bash_command=SQLMESH_RUN,
        env={"MODELS": "*.fct_ap_aging"},
        append_env=True,
        sla=timedelta(minutes=40),
        outlets=[Dataset("northstar://marts/fct_ap_aging")],
    )
    closed = EmptyOperator(task_id="close_complete")

    [wait_erp, wait_marts] >> trial_balance >> closed
    wait_erp >> ap_aging >> closed
