"""Streaming freshness watchdog: one sensor per Kafka bronze table, failing when its Structured Streaming checkpoint
has not committed within the catalog's freshness SLA (< 3 min platform promise).

Why hand-written: it reads every stream at once and is the page-worthy signal; the per-stream supervisor DAGs
(generated) try to catch up, this DAG says whether they succeeded. ``FRESHNESS_SLA_SECONDS`` must equal the catalog's
``sla.freshness_seconds`` per stream (a catalog test compares them).
"""

from __future__ import annotations

import os
import time
from datetime import datetime, timedelta

from airflow import DAG
from airflow.operators.empty import EmptyOperator
from airflow.sensors.python import PythonSensor

FRESHNESS_SLA_SECONDS = {
    "kafka__order_events": 120,
    "kafka__payment_events": 120,
    "kafka__pos_transactions": 120,
    "kafka__inventory_movements": 150,
}


def checkpoint_is_fresh(table: str, sla_seconds: int) -> bool:
    """True when the stream's newest checkpoint commit is younger than its SLA (read at run time, not parse time)."""
    commits = os.path.join(os.environ["NORTHSTAR_LAKE"], "checkpoints", table, "commits")
    stamps = [os.path.getmtime(os.path.join(root, f)) for root, _, files in os.walk(commits) for f in files]
    return bool(stamps) and time.time() - max(stamps) <= sla_seconds


with DAG(
    dag_id="streaming_freshness_watchdog",
    description="Fails when any Kafka bronze table is staler than its catalog freshness SLA.",
    schedule="*/10 * * * *",
    start_date=datetime(2024, 1, 1),
    catchup=False,
    max_active_runs=1,
    default_args={"owner": "streaming-platform", "retries": 1, "retry_delay": timedelta(minutes=1)},
    tags=["streaming", "sla", "finance"],
    doc_md=__doc__,
) as dag:
    all_fresh = EmptyOperator(task_id="all_streams_fresh")
    for table, sla in FRESHNESS_SLA_SECONDS.items():
        PythonSensor(
            task_id=f"fresh_{table}",
            python_callable=checkpoint_is_fresh,
            op_kwargs={"table": table, "sla_seconds": sla},
            mode="reschedule",
            poke_interval=30,
            timeout=sla,
            sla=timedelta(seconds=sla),
        ) >> all_fresh
