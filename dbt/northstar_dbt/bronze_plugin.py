"""dbt-duckdb plugin (``profiles.yml`` -> ``plugins``): plain dbt-core runs find the bronze tables too.

SQLMesh gets them from ``config.py``; dbt-core never reads that file, yet the release engine's ``unit-test`` step and
``dbt build`` (tests, benchmark, fallback runner) build staging views over the bronze sources on fresh DuckDB files.
dbt-duckdb calls ``configure_connection`` once when it opens the database, which is exactly when to run the same
:func:`northstar_dbt.bronze.ensure_bronze`.
"""

from __future__ import annotations

from typing import Any

from dbt.adapters.duckdb.plugins import BasePlugin

from northstar_dbt.bronze import enabled, ensure_bronze


class Plugin(BasePlugin):
    def configure_connection(self, conn: Any) -> None:
        if enabled():
            ensure_bronze(conn)
