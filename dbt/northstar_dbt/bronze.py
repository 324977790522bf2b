"""Bronze tables for the embedded default: make sure ``bronze.<system>__<name>`` exists before anything reads it.

Why here and why implicit: in production the Spark ingestion jobs write the 37 bronze tables and the dbt sources
only read them. On the embedded default (one DuckDB file, no Spark run beforehand) every process that builds the
project -- SQLMesh through ``config.py``, plain dbt-core through the dbt-duckdb plugin in ``profiles.yml``, the
release engine's warehouse entry point, tests and benchmarks -- must find them already there, including throw-away
scratch warehouses. So both hooks call :func:`ensure_bronze`, which:

* does nothing when every bronze table exists (Spark-ingested or benchmark-sized data is never touched);
* loads all of them from the deterministic generator (``northstar_synthetic``, seed 42) when none exists, sized by
  ``NORTHSTAR_BRONZE_ORDERS`` (default 300 orders over 7 days: the demo's small data);
* refuses, naming the missing tables, when only some exist (a half-ingested bronze layer is a bug to surface, not to
  paper over with synthetic rows).

``NORTHSTAR_BRONZE=skip`` turns the hook off (e.g. against a warehouse whose bronze layer is managed elsewhere).
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DEFAULT_ORDERS = 300
DEFAULT_DAYS = 7
SEED = 42
ATTACH_ALIAS = "northstar_synthetic_load"


class BronzeError(RuntimeError):
    """The bronze layer is in a state the warehouse cannot build from."""


@dataclass(frozen=True)
class BronzeResult:
    loaded: tuple[str, ...]
    present: int

    def describe(self) -> str:
        if not self.loaded:
            return f"bronze: all {self.present} tables present, nothing loaded"
        return f"bronze: loaded {len(self.loaded)} synthetic tables"


def expected_tables() -> tuple[str, ...]:
    from northstar_synthetic import TABLES

    return tuple(sorted(TABLES))


def _present(con: Any) -> set[str]:
    rows = con.execute(
        "select table_name from information_schema.tables "
        "where table_schema = 'bronze' and table_catalog = current_database()"
    ).fetchall()
    return {str(r[0]) for r in rows}


def enabled() -> bool:
    return os.environ.get("NORTHSTAR_BRONZE", "").strip().lower() not in ("skip", "off", "0", "false")


def size_from_env() -> tuple[int, int]:
    raw_orders = os.environ.get("NORTHSTAR_BRONZE_ORDERS", str(DEFAULT_ORDERS))
    raw_days = os.environ.get("NORTHSTAR_BRONZE_DAYS", str(DEFAULT_DAYS))
    try:
        return int(raw_orders), int(raw_days)
    except ValueError:
        raise BronzeError(f"NORTHSTAR_BRONZE_ORDERS / NORTHSTAR_BRONZE_DAYS must be integers, got "
                          f"{raw_orders!r} / {raw_days!r}") from None


def ensure_bronze(con: Any, orders: int | None = None, days: int | None = None) -> BronzeResult:
    """Create the bronze tables on the open DuckDB connection ``con`` if none exists (see module docstring)."""
    expected = set(expected_tables())
    present = _present(con) & expected
    if present == expected:
        return BronzeResult((), len(present))
    if present:
        missing = ", ".join(sorted(expected - present))
        raise BronzeError(f"bronze schema is partially loaded: missing {missing}. Load them (Spark ingestion, or "
                          f"`python -m northstar_synthetic --out DIR --duckdb FILE`) or set NORTHSTAR_BRONZE=skip.")
    env_orders, env_days = size_from_env()
    _load_synthetic(con, orders or env_orders, days or env_days)
    return BronzeResult(tuple(sorted(expected)), len(expected))


def _load_synthetic(con: Any, orders: int, days: int) -> None:
    """Generate + load into a scratch DuckDB with the generator's own loader, then copy over in one transaction."""
    from northstar_dbt.arrivals import record_arrival
    from northstar_synthetic import Config, generate, write_dataset
    from northstar_synthetic.duckdb_load import load_bronze

    with tempfile.TemporaryDirectory(prefix="northstar-bronze-") as tmp:
        files, scratch = Path(tmp) / "files", Path(tmp) / "synthetic.duckdb"
        write_dataset(generate(Config(seed=SEED, orders=orders, days=days)), files)
        load_bronze(files, scratch)
        row = con.execute("select current_database()").fetchone()
        database = str(row[0]) if row else "main"  # qualified: a file named bronze.duckdb makes "bronze" ambiguous
        con.execute(f"attach '{scratch}' as {ATTACH_ALIAS} (read_only)")
        try:
            con.execute("begin transaction")
            con.execute(f'create schema if not exists "{database}".bronze')
            for key in expected_tables():
                # Table names come from the generator's schema (sources.yaml), not from input.
                con.execute(f'create table "{database}".bronze.{key} as '  # noqa: S608
                            f"select * from {ATTACH_ALIAS}.bronze.{key}")
                row = con.execute(f'select count(*) from "{database}".bronze.{key}').fetchone()  # noqa: S608
                # The real arrival time (the rows' _ingested_at is a fixed value): the freshness gate reads it.
                record_arrival(con, key, int(row[0]) if row else None, "synthetic", database=database)
            con.execute("commit")
        except Exception:
            con.execute("rollback")
            raise
        finally:
            con.execute(f"detach {ATTACH_ALIAS}")


def ensure_bronze_file(database: Path) -> BronzeResult:
    """``ensure_bronze`` on a DuckDB file (opened and closed here; the caller holds no connection to it)."""
    import duckdb

    database.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(database))
    try:
        return ensure_bronze(con)
    finally:
        con.close()
