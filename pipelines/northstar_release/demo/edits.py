"""The demo's commits in its clone: a good change and a bad change, applied exactly once or refused."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from northstar_release.demo.errors import StepFailed

DEMO_AUTHOR = "dev@northstar.example"  # commits (b), (c) and (c2); the release author
PROD_ROLLBACK_BUDGET_S = 10.0  # the "Done when": whole-platform prod rollback <= 10 s wall on 2 cores
WAREHOUSE_KIND, SPARK_KIND = "warehouse_project", "spark_job"  # the kinds the demo's edits (b) change

# The files the demo edits in its clone (relative to the repo root).
GOOD_MART = "dbt/models/marts/fct_orders.sql"
SPARK_JOB = "spark/northstar_spark/jobs/daily_revenue.py"
FINANCE_MART = "dbt/models/marts/fct_daily_revenue.sql"
MART_SCHEMA = "dbt/models/marts/schema.yml"
BROKEN_DAG = "airflow/dags/orders_export.py"
BAD_COLUMN = "refunded_amount"
SPARK_UNIT_TEST = "spark/northstar_spark/tests/test_daily_revenue.py:../../tests"  # fails on (c2)'s edit
SPARK_TEST_MODULE = "spark.northstar_spark.tests.test_daily_revenue"  # its JUnit classname (the dotted path)

# A typo in an import from a package Pants does know (so the release still builds); importing the DAG file fails,
# which is exactly what the dag_integrity gate (Airflow's DagBag) must catch before dev.
BROKEN_DAG_SOURCE = '''"""Orders export (the demo's bad change): a typo in an import, so the DagBag must reject this file."""

from datetime import datetime, timedelta

from airflow import DAG
from airflow.operators.empty import EmptyOperater

with DAG(dag_id="orders_export", start_date=datetime(2024, 1, 1), schedule="0 4 * * *", catchup=False,
         tags=["orders"], default_args={"owner": "data-platform", "retries": 1,
                                        "retry_delay": timedelta(minutes=5)}) as dag:
    EmptyOperater(task_id="export")
'''


# ---------------------------------------------------------------------------------------------- clone edits ---
def _replace_once(text: str, old: str, new: str, path: str) -> str:
    if text.count(old) != 1:
        raise StepFailed(f"cannot apply the demo's edit to {path}: expected exactly one {old.strip()[:60]!r}")
    return text.replace(old, new)


def add_mart_column(sql: str) -> str:
    """Good change: fct_orders gains ``payment_count`` (an added column: a non-breaking change)."""
    return _replace_once(sql, "as amount\nfrom", "as amount,\n    count(p.payment_id) as payment_count\nfrom", GOOD_MART)


def change_spark_job(source: str) -> str:
    """Good change: status matching tolerates padded values; OUTPUT_SCHEMA and the fixture's results stay the same."""
    return _replace_once(source, 'F.lower(F.col("status"))', 'F.lower(F.trim(F.col("status")))', SPARK_JOB)


def break_spark_job(source: str) -> str:
    """Bad Spark change (c2), on top of the good change: status matching loses its ``lower()``, so ``SHIPPED`` orders
    stop counting. The verifier's fixture has lowercase statuses only and the output schema is unchanged, so every
    other gate passes; the job's own unit test (``test_daily_revenue.py``: exact values) fails."""
    return _replace_once(source, 'F.lower(F.trim(F.col("status")))', 'F.trim(F.col("status"))', SPARK_JOB)


def add_failing_finance_column(sql: str) -> str:
    """Bad change: fct_daily_revenue gains a column that is always NULL (the join that would fill it is missing)."""
    return _replace_once(sql, "as revenue\nfrom",
                         f"as revenue,\n    cast(null as decimal(18, 2)) as {BAD_COLUMN}\nfrom", FINANCE_MART)


def add_failing_finance_test(schema_yml: str) -> str:
    """Bad change: a not_null data test on the new finance column, which fails on every row."""
    anchor = "      - name: revenue\n        data_tests: [not_null]\n"
    return _replace_once(schema_yml, anchor, anchor + f"      - name: {BAD_COLUMN}\n"
                         "        description: \"Refunds per day (the demo's bad change: always NULL)\"\n"
                         "        data_tests: [not_null]\n", MART_SCHEMA)


def edit(repo: Path, rel: str, fn: Callable[[str], str]) -> None:
    path = repo / rel
    path.write_text(fn(path.read_text()))
