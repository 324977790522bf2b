"""Legacy supplier FTP poller: waits for the nightly inventory sync, then polls the supplier FTP for price files.

Pass-through: two suppliers still deliver by FTP and nobody has moved them to the S3 drop. Uses the Airflow 1.10
module paths (external_task_sensor, bash_operator) that Airflow 2 keeps as deprecated aliases.
"""

from datetime import datetime, timedelta

from airflow import DAG
from airflow.operators.bash_operator import BashOperator
from airflow.sensors.external_task_sensor import ExternalTaskSensor

dag = DAG(
    "legacy_supplier_ftp_poll",
    default_args={"owner": "airflow", "start_date": datetime(2022, 6, 1)},
    schedule_interval="@hourly",
    catchup=False,
)

wait_inventory = ExternalTaskSensor(
    task_id="wait_for_inventory_sync",
    external_dag_id="legacy_inventory_sync",
    external_task_id="sync_inventory",
    execution_delta=timedelta(0),
    mode="reschedule",
    timeout=3000,
    dag=dag,
)

poll = BashOperator(
    task_id="poll_supplier_ftp",
    bash_command="echo 'lftp -e \"mirror /prices /landing/prices; bye\" ftp.supplier.example'",
    dag=dag,
)

wait_inventory >> poll
