"""When did each bronze table last arrive? The record the freshness gate judges against the catalog's SLAs.

Why a load log beside the ``_ingested_at`` column: every bronze row carries ``_ingested_at`` (set by the ingesting
Spark job), but the embedded default's synthetic loader stamps a fixed 2024 value so that a reload is byte-for-byte
the same warehouse (staging models select it). The real arrival time of that load is therefore written here, in
``bronze_meta.loads`` (one row per load of a table). A table's latest arrival is the later of its newest
``_ingested_at`` and its newest logged load; a table with neither has never arrived.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

SCHEMA = "bronze_meta"
TABLE = "loads"


def ensure_log(con: Any, database: str | None = None) -> str:
    """Create ``bronze_meta.loads`` if missing; returns its qualified name."""
    prefix = f'"{database}".' if database else ""
    con.execute(f"create schema if not exists {prefix}{SCHEMA}")
    con.execute(f"create table if not exists {prefix}{SCHEMA}.{TABLE} (table_name varchar not null, "
                "loaded_at timestamp not null, rows bigint, loader varchar not null)")
    return f"{prefix}{SCHEMA}.{TABLE}"


def record_arrival(con: Any, table: str, rows: int | None, loader: str, loaded_at: datetime | None = None,
                   database: str | None = None) -> None:
    """Append one arrival of bronze ``table`` (naive UTC timestamp; default: now)."""
    log = ensure_log(con, database)
    at = (loaded_at or datetime.now(UTC)).astimezone(UTC).replace(tzinfo=None)
    con.execute(f"insert into {log} values (?, ?, ?, ?)", [table, at, rows, loader])  # noqa: S608 (constant name)


def latest_arrivals(con: Any, tables: list[str]) -> dict[str, tuple[datetime | None, int | None]]:
    """table -> (latest arrival as aware UTC datetime or None, rows of the latest logged load or None)."""
    present = {str(r[0]) for r in con.execute(
        "select table_name from information_schema.tables where table_schema = 'bronze'").fetchall()}
    logged: dict[str, tuple[datetime, int | None]] = {}
    if con.execute("select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
                   [SCHEMA, TABLE]).fetchone()[0]:
        for name, at, logged_rows in con.execute(
                f"select table_name, loaded_at, rows from {SCHEMA}.{TABLE} "  # noqa: S608 (constant name)
                "qualify row_number() over (partition by table_name order by loaded_at desc) = 1").fetchall():
            logged[str(name)] = (at, logged_rows)
    out: dict[str, tuple[datetime | None, int | None]] = {}
    for table in tables:
        candidates: list[datetime] = []
        rows: int | None = None
        if table in present:
            cols = {str(r[0]) for r in con.execute(
                "select column_name from information_schema.columns where table_schema = 'bronze' and table_name = ?",
                [table]).fetchall()}
            if "_ingested_at" in cols:
                row = con.execute(f'select max(_ingested_at), count(*) from bronze."{table}"').fetchone()  # noqa: S608
                if row and row[0] is not None:
                    candidates.append(row[0])
                rows = int(row[1]) if row else None
        if table in logged:
            candidates.append(logged[table][0])
            rows = logged[table][1] if logged[table][1] is not None else rows
        latest = max(candidates) if candidates else None
        out[table] = (latest.replace(tzinfo=UTC) if latest is not None and latest.tzinfo is None else latest, rows)
    return out
