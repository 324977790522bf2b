"""dbt ``unit_tests:`` (SQLMesh ignores them), run with dbt-core on a scratch DuckDB."""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from northstar_contracts.warehouse import UnitTestResult, WarehouseUnitTestReport

_ENV_KEYS = ("NORTHSTAR_DUCKDB_PATH",)


def run_unit_tests(project: Path) -> WarehouseUnitTestReport:
    """Build what the unit tests need (upstream seeds/models, data tests excluded) and run them; restores the
    working directory and the engine variables it changes (the combined ``check`` continues in this process)."""
    from dbt.cli.main import dbtRunner

    scratch = Path(tempfile.mkdtemp(prefix="wh-unit-"))
    t0 = time.monotonic()
    old_cwd = os.getcwd()
    saved = {k: os.environ.get(k) for k in _ENV_KEYS}
    try:
        os.environ["NORTHSTAR_DUCKDB_PATH"] = str(scratch / "unit.duckdb")
        os.chdir(project)
        result = dbtRunner().invoke([
            "build", "--select", "+test_type:unit", "--exclude", "test_type:data",
            "--project-dir", str(project), "--profiles-dir", str(project), "--target", "duckdb",
            "--target-path", str(scratch / "target"), "--log-path", str(scratch / "logs"), "--quiet",
        ])
    finally:
        os.chdir(old_cwd)
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        shutil.rmtree(scratch, ignore_errors=True)
    tests: list[UnitTestResult] = []
    other_failures: list[str] = []
    node_results: Any = result.result if result.exception is None else None  # RunExecutionResult for `build`
    for r in node_results or []:
        uid = r.node.unique_id
        status = str(r.status)
        if uid.startswith("unit_test."):
            tests.append(UnitTestResult(test=uid, model=uid.split(".")[2] if uid.count(".") >= 3 else None,
                                        status=status, message=(r.message or "")[:2000]))
        elif status not in ("success", "pass", "skipped"):
            other_failures.append(f"{uid}: {status}: {(r.message or '')[:300]}")
    failed = [t.test for t in tests if t.status != "pass"]
    error = None
    if result.exception is not None:
        error = f"{type(result.exception).__name__}: {str(result.exception)[:1500]}"
    return WarehouseUnitTestReport(
        ok=result.exception is None and not failed and not other_failures, unit_tests=tests,
        passed=len(tests) - len(failed), failed=failed, upstream_failures=other_failures,
        timings={"dbt_s": round(time.monotonic() - t0, 3)}, error=error)
