"""Where the dbt project lives and how to run it in isolation.

Why: SQLMesh and dbt write build output (target/, logs/, .cache/) and engine files into the project
directory, and tests that edit models must never touch the working tree. Every programmatic run (tests,
release tooling) therefore works on a copy made here, with warehouse and state paths passed by env var.
"""

from __future__ import annotations

import shutil
from pathlib import Path

PROJECT_DIR: Path = Path(__file__).resolve().parents[1]
"""The dbt project root (``dbt/``): holds dbt_project.yml, profiles.yml and SQLMesh's config.py."""

# dbt_packages/ is NOT ignored: it holds the vendored, resolved packages (package-lock.yml) the project needs to
# parse; packages/ (their source, only read by `dbt deps`) is not needed to build.
_IGNORED = shutil.ignore_patterns(
    "target", "logs", ".cache", "*.duckdb", "*.duckdb.wal", "__pycache__", "northstar_dbt", "packages", "scripts"
)


def copy_project(dest: Path, source: Path = PROJECT_DIR) -> Path:
    """Copy the project's files (not build output, engine files or this Python package) to ``dest``."""
    shutil.copytree(source, dest, ignore=_IGNORED)
    return dest


# The pilot slice: seeds raw_* -> stg_customers/orders/payments -> fct_orders, fct_daily_revenue (tag finance), with
# their schema tests, the dbt unit test and the singular test. It is the project the release machinery's own tests
# deploy, promote and roll back: those tests are about plans, categories, pins and audits, which five real models
# show as well as 214, at a fraction of the SQLMesh load time. The full project has its own tests
# (test_sqlmesh_project, test_dbt_build) and runs in `./release demo`.
PILOT_LAYER_DIRS = ("models/staging", "models/marts")  # files directly in these folders are the pilot
PILOT_DROPPED_DIRS = ("models/intermediate",)


def copy_pilot_project(dest: Path, source: Path = PROJECT_DIR) -> Path:
    """Copy the project with only the 5-model pilot slice (see PILOT_LAYER_DIRS) under ``models/``."""
    copy_project(dest, source)
    for rel in PILOT_DROPPED_DIRS:
        shutil.rmtree(dest / rel, ignore_errors=True)
    for rel in PILOT_LAYER_DIRS:
        for child in (dest / rel).iterdir():
            if child.is_dir():
                shutil.rmtree(child)
    return dest


def engine_env(warehouse: Path, state: Path, target: str = "duckdb") -> dict[str, str]:
    """Environment variables that point the profile and SQLMesh state at explicit DuckDB files."""
    return {
        "NORTHSTAR_DUCKDB_PATH": str(warehouse),
        "NORTHSTAR_SQLMESH_STATE_PATH": str(state),
        "NORTHSTAR_DBT_TARGET": target,
    }
