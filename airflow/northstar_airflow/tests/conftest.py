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


@pytest.fixture(scope="session")
def airflow_db() -> Iterator[None]:
    """A migrated SQLite metadata DB; only tests that run DAGs (dag.test) need it."""
    from airflow.utils import db

    db.resetdb()
    yield
