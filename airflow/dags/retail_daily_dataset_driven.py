"""Data-aware retail refresh: runs when the hourly orders/payments ingestion and the nightly inventory snapshot have
all landed new bronze data since the last run (Airflow datasets), instead of guessing a safe clock time.

Why hand-written: its schedule is the producing tasks' Dataset outlets (the generated ingestion DAGs declare them
from the catalog sinks), which couples three DAGs without sensors polling each other.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow import DAG
from airflow.datasets import Dataset
from airflow.operators.bash import BashOperator
from airflow.operators.empty import EmptyOperator

SQLMESH_RUN = (
    'set -eu\nlive="${NORTHSTAR_ENV_DIR:?NORTHSTAR_ENV_DIR is not set}/warehouse"\nproject="$live/$(cat "$live/LIVE")"\n'
    'exec ${NORTHSTAR_SQLMESH:-sqlmesh} --paths "$project" run "${NORTHSTAR_ENV:?NORTHSTAR_ENV is not set}" --select-model "$MODELS"'
)
TRIGGERS = [
    Dataset("northstar://bronze/retail_oltp__orders"),
    Dataset("northstar://bronze/retail_oltp__payments"),
    Dataset("northstar://bronze/retail_oltp__inventory_snapshots"),
]

with DAG(
    dag_id="retail_daily_dataset_driven",
    description="Refresh sales and inventory marts when orders, payments and inventory bronze data have all landed.",
    schedule=TRIGGERS,
    start_date=datetime(2024, 1, 1),
    catchup=False,
    max_active_runs=1,
    default_args={"owner": "data-platform", "retries": 2, "retry_delay": timedelta(minutes=5)},
    tags=["sales", "inventory", "datasets"],
    doc_md=__doc__,
) as dag:
    sales = BashOperator(task_id="refresh_sales_marts", bash_command=SQLMESH_RUN,
                         env={"MODELS": "*.fct_orders+ *.fct_daily_revenue"}, append_env=True, sla=timedelta(minutes=30))
    inventory = BashOperator(task_id="refresh_inventory_marts", bash_command=SQLMESH_RUN,
                             env={"MODELS": "*.fct_inventory_daily+"}, append_env=True, sla=timedelta(minutes=30))
    done = EmptyOperator(task_id="marts_refreshed", outlets=[Dataset("northstar://marts/retail_daily")])
    [sales, inventory] >> done
