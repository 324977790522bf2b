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


def engine_env(warehouse: Path, state: Path, target: str = "duckdb") -> dict[str, str]:
    """Environment variables that point the profile and SQLMesh state at explicit DuckDB files."""
    return {
        "NORTHSTAR_DUCKDB_PATH": str(warehouse),
        "NORTHSTAR_SQLMESH_STATE_PATH": str(state),
        "NORTHSTAR_DBT_TARGET": target,
    }
