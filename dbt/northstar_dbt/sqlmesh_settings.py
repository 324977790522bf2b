"""The SQLMesh settings of the Northstar project, defined once for ``config.py`` and for the state-only commands.

Why a module of its own: ``config.py`` builds the SQLMesh ``Config`` through ``sqlmesh.dbt.loader.sqlmesh_config``,
which imports dbt-core and parses ``profiles.yml`` with dbt's machinery -- 4-11 s of a warehouse command at 214
models on 2 busy cores, before anything happens. The commands that never load the project (a switch from SQLMesh
state, ``serving``, pins of a switched env: ``northstar_dbt.warehouse.from_state``) need only the gateway (the DuckDB
warehouse file), the state connection and the plan settings. :func:`state_only_config` builds exactly that ``Config``
without importing dbt, from the same settings ``config.py`` passes to ``sqlmesh_config``; a test compares the two
configs field by field, so they cannot drift apart unnoticed.

Only the embedded DuckDB target is built here (:data:`STATE_ONLY_TARGETS`); any other target (Snowflake) returns
None and the caller reads ``config.py`` as before (slower, same result).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

DUCKDB_TARGET = "duckdb"  # profiles.yml: the default target and the SQLMesh gateway name it becomes
STATE_ONLY_TARGETS = frozenset({DUCKDB_TARGET})
MODEL_START = "2024-01-01"
# dbt-duckdb's ``to_sqlmesh`` for the profiles.yml duckdb target (threads 2 -> SQLMesh forces 1 on DuckDB).
DUCKDB_SCHEMA_DIFFER = {"treat_alter_data_type_as_destructive": True, "nested_support": "IGNORE"}


def state_connection(project_dir: Path) -> Any:
    """``NORTHSTAR_SQLMESH_STATE_URL=postgresql://...`` (shared by several machines) or the DuckDB file
    ``NORTHSTAR_SQLMESH_STATE_PATH`` (default ``<project>/sqlmesh_state.duckdb``)."""
    from sqlmesh.core.config import DuckDBConnectionConfig, PostgresConnectionConfig

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
        database=os.environ.get("NORTHSTAR_SQLMESH_STATE_PATH") or str(project_dir / "sqlmesh_state.duckdb"))


def config_settings() -> dict[str, Any]:
    """The ``Config`` fields config.py sets beyond what the dbt profile gives (see its docstring for why)."""
    from sqlmesh.core.config.common import VirtualEnvironmentMode

    return {"virtual_environment_mode": VirtualEnvironmentMode.FULL, "disable_anonymized_analytics": True}


def model_defaults(dialect: str | None = None) -> Any:
    from sqlmesh.core.config import ModelDefaultsConfig

    return ModelDefaultsConfig(start=MODEL_START, dialect=dialect)


def duckdb_path() -> str:
    """profiles.yml: ``path: "{{ env_var('NORTHSTAR_DUCKDB_PATH', 'northstar.duckdb') }}"``."""
    return os.environ.get("NORTHSTAR_DUCKDB_PATH") or "northstar.duckdb"


def state_only_config(project_dir: Path, target: str | None) -> Any | None:
    """The project's SQLMesh ``Config`` for commands that do not load the project, without importing dbt; None for a
    target other than the embedded DuckDB one (the caller then reads config.py)."""
    if (target or DUCKDB_TARGET) not in STATE_ONLY_TARGETS:
        return None
    from sqlmesh.core.config import Config, DuckDBConnectionConfig, GatewayConfig

    connection = DuckDBConnectionConfig(database=duckdb_path(), register_comments=False,
                                        schema_differ_overrides=dict(DUCKDB_SCHEMA_DIFFER))
    return Config(default_gateway=DUCKDB_TARGET,
                  gateways={DUCKDB_TARGET: GatewayConfig(connection=connection,
                                                         state_connection=state_connection(project_dir))},
                  model_defaults=model_defaults(dialect="duckdb"), **config_settings())
