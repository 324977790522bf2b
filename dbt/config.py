"""SQLMesh configuration for the Northstar dbt project (equivalent of ``sqlmesh init -t dbt``, hardened).

Why a Python config instead of sqlmesh.yaml: the state connection and target must come from environment
variables (CI, tests and each engineer point them somewhere else), and ``sqlmesh_config`` wires the dbt
profile target in as the gateway, so the state connection is attached to exactly that gateway.

Deviations from the init template, each deliberate:
- ``virtual_environment_mode="full"``: the template's ``dev_only`` makes every prod plan forward-only with no
  virtual promotion, so promoting a reviewed dev plan would silently rebuild instead.
- ``disable_anonymized_analytics=True``: analytics are on by default; we do not send telemetry from CI.
- separate DuckDB state connection: state must survive warehouse-file resets and never mix with model data.
  ``NORTHSTAR_SQLMESH_STATE_URL=postgresql://user:pw@host:port/db`` keeps the state in PostgreSQL instead (shared
  by several machines); otherwise ``NORTHSTAR_SQLMESH_STATE_PATH`` names the DuckDB state file.
- bronze tables (embedded default only): the dbt sources read ``bronze.<system>__<name>``, which Spark writes in
  production. On the DuckDB target this file makes sure they exist before SQLMesh plans (loaded from the
  deterministic synthetic generator when the warehouse has none; see ``northstar_dbt/bronze.py``).
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import unquote, urlparse

from sqlmesh.core.config import DuckDBConnectionConfig, ModelDefaultsConfig, PostgresConnectionConfig
from sqlmesh.core.config.common import VirtualEnvironmentMode
from sqlmesh.dbt.loader import sqlmesh_config

PROJECT_DIR = Path(__file__).resolve().parent
TARGET = os.environ.get("NORTHSTAR_DBT_TARGET") or None


def _state_connection() -> DuckDBConnectionConfig | PostgresConnectionConfig:
    url = os.environ.get("NORTHSTAR_SQLMESH_STATE_URL", "").strip()
    if url:
        parts = urlparse(url)
        if parts.scheme not in ("postgresql", "postgres"):
            raise ValueError(f"NORTHSTAR_SQLMESH_STATE_URL must be postgresql://..., got scheme {parts.scheme!r}")
        return PostgresConnectionConfig(
            host=parts.hostname or "localhost",
            port=parts.port or 5432,
            user=unquote(parts.username or ""),
            password=unquote(parts.password or ""),
            database=(parts.path or "/").lstrip("/") or "postgres",
        )
    return DuckDBConnectionConfig(
        database=os.environ.get("NORTHSTAR_SQLMESH_STATE_PATH", str(PROJECT_DIR / "sqlmesh_state.duckdb"))
    )


def _ensure_bronze() -> None:
    if TARGET not in (None, "duckdb"):
        return  # Snowflake: bronze is written by the Spark ingestion jobs
    from northstar_dbt.bronze import enabled, ensure_bronze_file

    if enabled():
        # Same default as profiles.yml: relative to the working directory.
        ensure_bronze_file(Path(os.environ.get("NORTHSTAR_DUCKDB_PATH") or "northstar.duckdb"))


_ensure_bronze()

config = sqlmesh_config(
    PROJECT_DIR,
    dbt_target_name=TARGET,
    state_connection=_state_connection(),
    profiles_dir=PROJECT_DIR,
    virtual_environment_mode=VirtualEnvironmentMode.FULL,
    disable_anonymized_analytics=True,
    model_defaults=ModelDefaultsConfig(start="2024-01-01"),
)
