"""Legacy CRM e-mail preference sync (Airflow 1.10 style, provide_context=True), kept until the CRM migration.

Pass-through: downstream marketing sends depend on its exact timing. ``provide_context`` is a no-op with a
deprecation warning in Airflow 2; the callable still receives the context through **kwargs.
"""

from datetime import datetime, timedelta

from airflow import DAG
from airflow.operators.python_operator import PythonOperator


def sync_preferences(**kwargs):
    """Pretend to pull opt-outs changed on ds from the CRM and mark them in the warehouse."""
    ds = kwargs["ds"]
    opted_out = {"c-1001": ds, "c-1002": ds}
    print("syncing %d opt-outs for %s" % (len(opted_out), ds))
    return len(opted_out)


dag = DAG(
    dag_id="legacy_customer_email_sync",
    default_args={"owner": "crm", "start_date": datetime(2021, 3, 1), "retry_delay": timedelta(minutes=15)},
    schedule_interval="30 */6 * * *",
    catchup=False,
)

sync = PythonOperator(
    task_id="sync_email_preferences",
    python_callable=sync_preferences,
    provide_context=True,
    dag=dag,
)
