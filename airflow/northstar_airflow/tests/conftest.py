"""Airflow test environment, set up before anything imports airflow.

Why at import time: Airflow reads AIRFLOW_HOME and its config the first time ``airflow`` is imported, and
pytest imports conftest before any test module. A private AIRFLOW_HOME keeps tests off ~/airflow, and
UNIT_TEST_MODE gives a throwaway SQLite metadata DB inside it.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

_AIRFLOW_HOME = tempfile.mkdtemp(prefix="northstar-airflow-test-")
atexit.register(shutil.rmtree, _AIRFLOW_HOME, True)
os.environ["AIRFLOW_HOME"] = _AIRFLOW_HOME
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
os.environ["AIRFLOW__CORE__UNIT_TEST_MODE"] = "True"

import pytest  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parents[3]
DAGS_DIR = REPO_ROOT / "airflow" / "dags"
LEGACY_DAGS_DIR = REPO_ROOT / "legacy" / "legacy_dags"
GENERATED_DAGS_DIR = DAGS_DIR / "generated"
HAND_WRITTEN_DAG_IDS = frozenset({
    "orders_daily", "finance_month_end_close", "retail_daily_dataset_driven", "streaming_freshness_watchdog",
    "warehouse_backfill", "supply_chain_replenishment",
})
LEGACY_DAG_IDS = frozenset({
    "legacy_inventory_sync", "legacy_store_sales_export", "legacy_customer_email_sync", "legacy_finance_fx_loader",
    "legacy_supplier_ftp_poll",
})


def warm_airflow(modules: tuple[str, ...]) -> None:
    """Pay Airflow's one-time process costs before a timed DagBag load, as a long-lived scheduler parser already has.

    The parser pre-imports a DAG file's modules ([scheduler] parsing_pre_import_modules), and the first BaseOperator
    and Dataset of a process load the serializer and the providers manager (~1.5 s here). Without this the first
    file to touch them would be charged for Airflow itself rather than for its own parse.
    """
    import importlib

    for module in modules:
        importlib.import_module(module)
    from airflow.datasets import Dataset
    from airflow.operators.bash import BashOperator

    Dataset("northstar://warm/up")
    BashOperator(task_id="warm_up", bash_command="true")


def expected_dag_ids() -> list[str]:
    """Hand-written DAGs plus one DAG per generated file (named after its dag_id by the catalog codegen)."""
    return sorted(HAND_WRITTEN_DAG_IDS | {p.stem for p in GENERATED_DAGS_DIR.glob("*.py")})


@pytest.fixture(scope="session")
def airflow_db() -> Iterator[None]:
    """A migrated SQLite metadata DB; only tests that run DAGs (dag.test) need it."""
    from airflow.utils import db

    db.resetdb()
    yield
