"""The dbt project's 5-model pilot slice for tests of the release machinery.

Why: plans, gates, promotions and rollbacks behave the same on 5 real models as on the 214 of the full project,
whose SQLMesh load would dominate every step of these tests. The slice is seeds -> stg_customers/orders/payments ->
fct_orders, fct_daily_revenue (tag finance), with their schema tests, the dbt unit test and the singular test. The
rule is the same as ``northstar_dbt.project.copy_pilot_project`` (restated: that package lives in the dbt resolve).
The full project is tested in dbt/ and deployed by `./release demo`.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from northstar_release.tests.helpers import REPO


def copy_pilot_dbt(dest: Path, *extra_ignored: str) -> Path:
    """Copy ``dbt/`` to ``dest`` with only the pilot slice under ``models/`` (files directly in staging/ and marts/)."""
    shutil.copytree(REPO / "dbt", dest, ignore=shutil.ignore_patterns(
        "target", "logs", ".cache", "*.duckdb", "*.duckdb.wal", "__pycache__", *extra_ignored))
    shutil.rmtree(dest / "models" / "intermediate", ignore_errors=True)
    for layer in ("staging", "marts"):
        for child in (dest / "models" / layer).iterdir():
            if child.is_dir():
                shutil.rmtree(child)
    return dest
