"""Legacy FX rate loader from the treasury spreadsheet export, superseded by ingest_exchange_rates but still feeding
the old finance cube. Pass-through until the cube is retired.
"""

from datetime import datetime

from airflow import DAG
from airflow.operators.bash_operator import BashOperator
from airflow.operators.python_operator import BranchPythonOperator, PythonOperator

CURRENCIES = ["EUR", "GBP", "CAD"]


def choose_path(**context):
    """Weekends have no treasury fixing: skip straight to the carry-forward."""
    weekday = context["execution_date"].weekday()
    return "carry_forward_rates" if weekday >= 5 else "load_rates"


def load_rates(**context):
    return {ccy: 1.0 for ccy in CURRENCIES}


dag = DAG(
    "legacy_finance_fx_loader",
    default_args={"owner": "treasury", "depends_on_past": True, "start_date": datetime(2020, 1, 1)},
    schedule_interval="@daily",
    catchup=False,
    max_active_runs=1,
)

branch = BranchPythonOperator(task_id="weekday_or_weekend", python_callable=choose_path, provide_context=True, dag=dag)
load = PythonOperator(task_id="load_rates", python_callable=load_rates, provide_context=True, dag=dag)
carry = BashOperator(task_id="carry_forward_rates", bash_command="echo carry forward {{ prev_ds }} rates", dag=dag)

branch >> [load, carry]
