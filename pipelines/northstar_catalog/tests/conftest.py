"""A writable copy of the real catalog (and the DAG files it cross-checks) for tests that break it on purpose."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

REPO = Path.cwd()  # Pants runs tests from the sandbox root, which holds the repo-relative files


@pytest.fixture()
def repo_copy(tmp_path: Path) -> Path:
    shutil.copytree(REPO / "pipelines" / "catalog", tmp_path / "pipelines" / "catalog")
    shutil.copytree(REPO / "airflow" / "dags", tmp_path / "airflow" / "dags")
    return tmp_path
