"""Daily orders pipeline: validate the day's order extract, summarise it, publish the summary.

Why it is pure Python with no network: the DAG is the template new DAGs copy, and it must run end to end
under ``dag.test()`` in CI. Real extracts/loads will swap the callables for provider operators
(S3, SQLExecuteQueryOperator on Snowflake) without changing the DAG's shape or policy settings.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from airflow import DAG
from airflow.operators.empty import EmptyOperator
from airflow.operators.python import PythonOperator

DEFAULT_ARGS: dict[str, Any] = {
    "owner": "data-platform",
    "retries": 2,
    "retry_delay": timedelta(minutes=5),
}

# A fixed sample stands in for the day's extract until the S3 landing zone exists.
SAMPLE_ORDERS: list[dict[str, Any]] = [
    {"order_id": 1, "status": "completed", "amount_cents": 6899},
    {"order_id": 2, "status": "returned", "amount_cents": 10450},
    {"order_id": 3, "status": "shipped", "amount_cents": 7950},
]


def validate_orders(**context: Any) -> int:
    """Fail fast on malformed rows so nothing downstream summarises bad data."""
    for row in SAMPLE_ORDERS:
        if row["amount_cents"] < 0 or not row["status"]:
            raise ValueError(f"invalid order row: {row}")
    return len(SAMPLE_ORDERS)


def summarise_orders(**context: Any) -> dict[str, Any]:
    """Recognised revenue = shipped + completed orders, matching the dbt mart's definition."""
    recognised = [r for r in SAMPLE_ORDERS if r["status"] in {"shipped", "completed"}]
    return {
        "ds": context["ds"],
        "orders": len(recognised),
        "revenue_cents": sum(r["amount_cents"] for r in recognised),
    }


with DAG(
    dag_id="orders_daily",
    description="Validate and summarise the daily order extract.",
    default_args=DEFAULT_ARGS,
    schedule="0 3 * * *",
    start_date=datetime(2024, 1, 1),
    catchup=False,
    max_active_runs=1,
    tags=["orders", "daily", "finance"],
) as dag:
    validate = PythonOperator(task_id="validate_orders", python_callable=validate_orders)
    summarise = PythonOperator(task_id="summarise_orders", python_callable=summarise_orders)
    publish = EmptyOperator(task_id="publish")

    validate >> summarise >> publish
