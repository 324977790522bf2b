"""Process plumbing of the warehouse entry point: telemetry off, engine locations, the warehouse lock, the context.

A file lock (``<warehouse>.lock``) serialises processes on the warehouse: DuckDB admits one writer process, and the
dev and staging deploys hold different release-engine locks but share this file. :func:`session` takes the lock and
loads the project ONCE; every step of a command (plan, apply, tables, audits, pins) then works on that context.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from northstar_contracts.harness import Refused, UsageError
from northstar_dbt.warehouse.options import WarehouseOptions

LOCK_TIMEOUT_S = float(os.environ.get("NORTHSTAR_WAREHOUSE_LOCK_TIMEOUT", "600"))


def hermetic_env() -> None:
    os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
    os.environ.setdefault("DO_NOT_TRACK", "1")
    os.environ.setdefault("SQLMESH__DISABLE_ANONYMIZED_ANALYTICS", "true")


def point_engine(opts: WarehouseOptions) -> None:
    """config.py and profiles.yml read the warehouse/state locations from these variables (at project load)."""
    os.environ["NORTHSTAR_DUCKDB_PATH"] = str(opts.warehouse_file)
    os.environ["NORTHSTAR_SQLMESH_STATE_PATH"] = str(opts.state or "")
    os.environ["NORTHSTAR_DBT_TARGET"] = opts.target
    if opts.state_url:
        os.environ["NORTHSTAR_SQLMESH_STATE_URL"] = opts.state_url
    else:
        os.environ.pop("NORTHSTAR_SQLMESH_STATE_URL", None)


@contextlib.contextmanager
def warehouse_lock(warehouse: Path, timeout_s: float = LOCK_TIMEOUT_S) -> Iterator[float]:
    """Exclusive flock on ``<warehouse>.lock``; yields the seconds spent waiting."""
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    lock_path = warehouse.with_name(warehouse.name + ".lock")
    started = time.monotonic()
    with open(lock_path, "a+") as fh:
        while True:
            try:
                fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() - started > timeout_s:
                    raise Refused(f"warehouse {warehouse} is locked by another process for more than "
                                  f"{timeout_s:.0f}s", warehouse=str(warehouse)) from None
                time.sleep(0.2)
        waited = time.monotonic() - started
        try:
            fh.seek(0)
            fh.truncate()
            fh.write(f"pid={os.getpid()} argv={' '.join(sys.argv[1:])[:300]}\n")
            fh.flush()
            yield waited
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def load_context(project: Path, *, load: bool = True, target: str | None = None) -> Any:
    """The SQLMesh context over the dbt project (the expensive step: it parses the whole dbt project).

    ``load=False`` parses no model: the context then knows only what SQLMesh state holds (:mod:`from_state`). Its
    ``Config`` is built by :func:`northstar_dbt.sqlmesh_settings.state_only_config` from the settings config.py
    uses, without importing dbt (the bulk of a state-only command's time); for a target it does not build
    (Snowflake) config.py is read as for a load.
    """
    from sqlmesh import Context
    from sqlmesh.core.console import NoopConsole, set_console

    from northstar_dbt.sqlmesh_settings import state_only_config

    if not (project / "dbt_project.yml").is_file() or not (project / "config.py").is_file():
        raise UsageError(f"{project} is not a dbt/SQLMesh project (needs dbt_project.yml and config.py)")
    set_console(NoopConsole())  # the janitor's terminal console would prompt; results come back as data
    config = None if load else state_only_config(project, target)
    context = Context(paths=str(project), load=load, config=config)
    # Release environments (dev/staging/prod) and pins are long-lived: they must never expire through
    # environment_ttl. Snapshots no environment references still expire after snapshot_ttl.
    context.environment_ttl = None
    return context


@contextlib.contextmanager
def session(opts: WarehouseOptions, timings: dict[str, float] | None = None, *, load: bool = True) -> Iterator[Any]:
    """Lock ``opts.warehouse`` and load the project once; yields the SQLMesh context (timings: lock_wait_s, load_s).

    ``load=False``: the context over SQLMesh state only (no model parsed; ``config_s`` instead of ``load_s``)."""
    timings = {} if timings is None else timings
    point_engine(opts)
    with warehouse_lock(opts.warehouse_file) as waited:
        timings["lock_wait_s"] = round(waited, 3)
        t0 = time.monotonic()
        context = load_context(opts.project, load=load, target=opts.target)
        timings["load_s" if load else "config_s"] = round(time.monotonic() - t0, 3)
        try:
            yield context
        finally:
            with contextlib.suppress(Exception):
                context.close()  # release the DuckDB files before the lock


def short_name(name: str) -> str:
    """``"warehouse"."analytics"."fct_orders"`` -> ``fct_orders``; standalone audit names pass through."""
    last = name.rsplit(".", 1)[-1] if not name.endswith('"') else name[name.rstrip('"').rfind('"') + 1:-1]
    return last.strip('"') or name


def count_rows(context: Any, table: str) -> int:
    # ``table`` is a physical table name produced by SQLMesh from the project's model names, not user input.
    row = context.engine_adapter.fetchone(f"select count(*) from {table}")  # noqa: S608
    return int(row[0]) if row else 0
