"""The state-only SQLMesh config (built without dbt) is the config ``config.py`` builds through dbt's loader.

Why: a switch from SQLMesh state, ``serving`` and the pins of a switched env build their ``Config`` with
``northstar_dbt.sqlmesh_settings.state_only_config`` to skip importing dbt. If ``config.py`` or dbt-duckdb's profile
mapping changed the gateway, connection, state connection, model defaults or plan settings, those commands would talk
to another warehouse or plan differently; this test fails first. The loader (dbt's, which parses the project) is
the one intended difference: a state-only command never loads models.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlmesh.core.config import Config

from northstar_dbt.project import PROJECT_DIR, engine_env
from northstar_dbt.sqlmesh_settings import state_only_config

LOADER_FIELDS = {"loader", "loader_kwargs", "dbt"}


def project_config(project: Path) -> Config:
    spec = importlib.util.spec_from_file_location("northstar_project_config", project / "config.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    config = module.config
    assert isinstance(config, Config)
    return config


POSTGRES = pytest.param("postgresql://analyst@db.example:5433/sql%6Desh", marks=pytest.mark.skipif(
    importlib.util.find_spec("psycopg2") is None, reason="SQLMesh validates a Postgres config only with psycopg2"))


@pytest.mark.parametrize("state_url", [None, POSTGRES])
def test_state_only_config_equals_the_dbt_built_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                       state_url: str | None) -> None:
    for key, value in engine_env(tmp_path / "warehouse.duckdb", tmp_path / "state.duckdb").items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("NORTHSTAR_BRONZE", "off")  # config.py would otherwise fill the warehouse with bronze
    if state_url:
        monkeypatch.setenv("NORTHSTAR_SQLMESH_STATE_URL", state_url)
    full = project_config(PROJECT_DIR)
    fast = state_only_config(PROJECT_DIR, "duckdb")
    assert fast is not None
    full_doc = full.model_dump(exclude=LOADER_FIELDS)
    fast_doc = fast.model_dump(exclude=LOADER_FIELDS)
    assert fast_doc == full_doc
    gateway = full.gateways[full.default_gateway]
    connection: Any = gateway.connection
    state: Any = gateway.state_connection
    assert connection.database == str(tmp_path / "warehouse.duckdb")
    if state_url:
        assert (state.host, state.user) == ("db.example", "analyst")
    else:
        assert state.database == str(tmp_path / "state.duckdb")


def test_other_targets_read_config_py() -> None:
    assert state_only_config(PROJECT_DIR, "snowflake") is None


def test_state_only_config_does_not_import_dbt(tmp_path: Path) -> None:
    code = ("import sys; from pathlib import Path; from northstar_dbt.sqlmesh_settings import state_only_config; "
            f"state_only_config(Path({str(PROJECT_DIR)!r}), 'duckdb'); "
            "print(sorted(m for m in sys.modules if m == 'dbt' or m.startswith(('dbt.', 'sqlmesh.dbt'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={"PYTHONPATH": ":".join(p for p in sys.path if p), "NORTHSTAR_DUCKDB_PATH":
                              str(tmp_path / "w.duckdb"), "DO_NOT_TRACK": "1"})
    assert out.stdout.strip() == "[]", out.stdout
