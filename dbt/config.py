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
- these settings are defined once in ``northstar_dbt/sqlmesh_settings.py``: the warehouse commands that never load
  the project (a switch from SQLMesh state, ``serving``) build the same ``Config`` there without importing dbt.
- bronze tables (embedded default only): the dbt sources read ``bronze.<system>__<name>``, which Spark writes in
  production. On the DuckDB target this file makes sure they exist before SQLMesh plans (loaded from the
  deterministic synthetic generator when the warehouse has none; see ``northstar_dbt/bronze.py``).
"""

from __future__ import annotations

import os
from pathlib import Path

from northstar_dbt.sqlmesh_settings import config_settings, model_defaults, state_connection
from sqlmesh.dbt.loader import sqlmesh_config

PROJECT_DIR = Path(__file__).resolve().parent
TARGET = os.environ.get("NORTHSTAR_DBT_TARGET") or None


def _ensure_bronze() -> None:
    if TARGET not in (None, "duckdb"):
        return  # Snowflake: bronze is written by the Spark ingestion jobs
    from northstar_dbt.bronze import enabled, ensure_bronze_file

    if enabled():
        # Same default as profiles.yml: relative to the working directory.
        ensure_bronze_file(Path(os.environ.get("NORTHSTAR_DUCKDB_PATH") or "northstar.duckdb"))


_ensure_bronze()

# The state connection, model defaults and plan settings live in northstar_dbt.sqlmesh_settings, shared with the
# commands that never load the project (they build the same Config without importing dbt).
config = sqlmesh_config(
    PROJECT_DIR,
    dbt_target_name=TARGET,
    state_connection=state_connection(PROJECT_DIR),
    profiles_dir=PROJECT_DIR,
    model_defaults=model_defaults(),
    **config_settings(),
)
