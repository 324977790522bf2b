"""Legacy nightly store sales export to the finance SFTP drop, carried over from the Airflow 1.10 deployment.

Kept as-is (pass-through target): the finance team's reconciliation scripts read its exact file names. Old-style
imports (airflow.operators.bash_operator), schedule_interval and days_ago still import under Airflow 2.11.
"""

from airflow import DAG
from airflow.operators.bash_operator import BashOperator
from airflow.utils.dates import days_ago

default_args = {
    "owner": "airflow",
    "depends_on_past": False,
    "start_date": days_ago(2),
    "email": ["finance-ops@northstar.example"],
    "email_on_failure": True,
}

dag = DAG(
    "legacy_store_sales_export",
    default_args=default_args,
    schedule_interval="0 4 * * *",
    catchup=False,
)

extract = BashOperator(
    task_id="extract_store_sales",
    bash_command="echo 'COPY store_sales_{{ ds_nodash }} TO /exports/store_sales_{{ ds_nodash }}.csv'",
    dag=dag,
)

upload = BashOperator(
    task_id="upload_to_sftp",
    bash_command="echo 'sftp put /exports/store_sales_{{ ds_nodash }}.csv /finance/inbound/'",
    dag=dag,
)

extract >> upload
