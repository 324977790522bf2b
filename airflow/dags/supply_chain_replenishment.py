"""Daily replenishment recommendations once stock is reconciled, ASNs are in and the supply-chain marts are built.

Why hand-written: three cross-domain upstreams on different schedules (Spark reconciliation at 04:30, hourly ASN
ingestion, supply-chain marts at 07:45) are awaited with ExternalTaskSensors whose execution_delta points at the
right upstream run; the recommendations model then runs through SQLMesh with the catalog's 30-minute SLA.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow import DAG
from airflow.datasets import Dataset
from airflow.operators.bash import BashOperator
from airflow.sensors.external_task import ExternalTaskSensor

SQLMESH_RUN = (
    'set -eu\nlive="${NORTHSTAR_ENV_DIR:?NORTHSTAR_ENV_DIR is not set}/warehouse"\nproject="$live/$(cat "$live/LIVE")"\n'
    'exec ${NORTHSTAR_SQLMESH:-sqlmesh} --paths "$project" run "${NORTHSTAR_ENV:?NORTHSTAR_ENV is not set}" --select-model "$MODELS"'
)
UPSTREAMS = {  # upstream DAG -> (task, how long before this DAG's 09:00 run that upstream's run was scheduled)
    "spark_inventory_reconciliation": ("spark_inventory_reconciliation", timedelta(hours=4, minutes=30)),
    "ingest_advance_shipping_notices": ("ingest_s3__advance_shipping_notices", timedelta(hours=1, minutes=40)),
    "transform_supply_chain_marts": ("mart_fct_inbound_shipments", timedelta(hours=1, minutes=15)),
}

with DAG(
    dag_id="supply_chain_replenishment",
    description="Replenishment recommendations after reconciliation, ASN ingestion and supply-chain marts.",
    schedule="0 9 * * *",
    start_date=datetime(2024, 1, 1),
    catchup=False,
    max_active_runs=1,
    default_args={"owner": "supply-chain-data", "retries": 2, "retry_delay": timedelta(minutes=5)},
    tags=["supply_chain", "inventory"],
    doc_md=__doc__,
) as dag:
    recommend = BashOperator(
        task_id="mart_fct_replenishment_recommendations",
        bash_command=SQLMESH_RUN,
        env={"MODELS": "*.fct_replenishment_recommendations"},
        append_env=True,
        sla=timedelta(minutes=30),
        outlets=[Dataset("northstar://marts/fct_replenishment_recommendations")],
    )
    for upstream_dag, (task, delta) in UPSTREAMS.items():
        ExternalTaskSensor(
            task_id=f"wait_for_{upstream_dag}",
            external_dag_id=upstream_dag,
            external_task_id=task,
            execution_delta=delta,
            mode="reschedule",
            poke_interval=120,
            timeout=3 * 3600,
        ) >> recommend
