"""Legacy inventory sync DAG, carried over unchanged from the old Airflow deployment.

Why it is kept as-is: downstream consumers depend on its exact behaviour and it cannot be rewritten yet.
It deliberately does NOT meet the policies for new DAGs (owner is the default 'airflow', no retries, no
tags), so it is a pass-through target: CI only checks that it imports (see legacy/README.md).
"""

from datetime import datetime

from airflow import DAG
from airflow.operators.python import PythonOperator

default_args = {
    "owner": "airflow",
    "start_date": datetime(2022, 6, 1),
}


def sync_inventory():
    """Pretend to reconcile warehouse stock levels; the real job called an on-prem API."""
    stock = {"sku-1": 10, "sku-2": 0}
    return {sku: qty for sku, qty in stock.items() if qty > 0}


dag = DAG(
    "legacy_inventory_sync",
    default_args=default_args,
    schedule_interval="@hourly",
    catchup=False,
)

sync = PythonOperator(
    task_id="sync_inventory",
    python_callable=sync_inventory,
    dag=dag,
)
