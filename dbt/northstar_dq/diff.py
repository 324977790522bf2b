"""The prod-vs-candidate diff, as DuckDB SQL.

Why hand-written SQL rather than SQLMesh's table_diff: the gate needs per-column null rates, key uniqueness and
added/removed/changed counts in one bounded-time pass over two multi-million-row tables; table_diff computes a
column-by-column match matrix through a generic engine-adapter layer and takes several times longer on the same
tables (see bench/data_diff.py). The work here is three scans: one aggregate per table (row count, distinct keys,
null keys, non-null count per column) and one hash join on the key comparing a hash of the non-key columns, whose
differing rows (usually a few percent) are kept in a temporary table for counting and sampling.
"""

from __future__ import annotations

import datetime as dt
import decimal
import uuid
from collections.abc import Sequence
from typing import Any, Literal

import duckdb
from pydantic import BaseModel, ConfigDict  # pants: no-infer-dep (installed by dbt-core, see dbt/BUILD)

DIFF_TABLE = "__northstar_dq_diff"
MASK = "***masked***"


class InputError(ValueError):
    """A table, schema or key column that does not exist. The message names it."""


class ColumnNulls(BaseModel):
    model_config = ConfigDict(frozen=True)

    column: str
    prod_nulls: int
    candidate_nulls: int


class SampleRow(BaseModel):
    """One differing row as evidence. PII columns carry MASK instead of their values."""

    model_config = ConfigDict(frozen=True)

    status: Literal["added", "removed", "changed"]
    key: dict[str, Any]
    changed_columns: tuple[str, ...] = ()
    prod: dict[str, Any] | None = None
    candidate: dict[str, Any] | None = None


class DiffStats(BaseModel):
    model_config = ConfigDict(frozen=True)

    prod_table: str
    candidate_table: str
    key: tuple[str, ...]
    prod_rows: int
    candidate_rows: int
    candidate_duplicate_keys: int  # rows beyond the first per non-null key value
    candidate_null_keys: int
    rows_added: int
    rows_removed: int
    rows_changed: int
    columns_compared: tuple[str, ...]
    columns_only_in_prod: tuple[str, ...]
    columns_only_in_candidate: tuple[str, ...]
    nulls: tuple[ColumnNulls, ...]
    sample: tuple[SampleRow, ...]
    duration_s: float = 0.0


def q(ident: str) -> str:
    """Quote an identifier for DuckDB (doubling embedded quotes)."""
    return '"' + ident.replace('"', '""') + '"'


def _columns(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> list[str]:
    rows = con.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position",
        [schema, table],
    ).fetchall()
    if not rows:
        raise InputError(f"table {schema}.{table} not found in the warehouse")
    return [str(r[0]) for r in rows]


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, dt.date | dt.datetime | dt.time):
        return value.isoformat()
    if isinstance(value, uuid.UUID | dt.timedelta | bytes):
        return str(value)
    return repr(value)


def _profile(con: duckdb.DuckDBPyConnection, table: str, key: Sequence[str], cols: Sequence[str],
             distinct: bool) -> tuple[int, int, int, list[int]]:
    """(rows, distinct non-null keys, rows with a null key part, non-null count per column) in one scan.

    The distinct-key count (a hash aggregate, the costly part) is only computed when asked: uniqueness is a property
    the candidate must have; prod's own duplicates are not the release's fault.
    """
    key_expr = q(key[0]) if len(key) == 1 else "(" + ", ".join(q(k) for k in key) + ")"
    null_key = " OR ".join(f"{q(k)} IS NULL" for k in key)
    not_null_key = " AND ".join(f"{q(k)} IS NOT NULL" for k in key)
    counts = ", ".join(f"count({q(c)})" for c in cols)
    distinct_expr = f"count(DISTINCT {key_expr}) FILTER (WHERE {not_null_key})" if distinct else "0"
    sql = (f"SELECT count(*), {distinct_expr}, "  # noqa: S608 (quoted identifiers)
           f"count(*) FILTER (WHERE {null_key}){', ' + counts if counts else ''} FROM {table}")
    row = con.execute(sql).fetchone()
    assert row is not None
    return int(row[0]), int(row[1]), int(row[2]), [int(v) for v in row[3:]]


def diff_tables(
    con: duckdb.DuckDBPyConnection,
    prod_schema: str,
    candidate_schema: str,
    table: str,
    key: Sequence[str],
    sample_size: int = 20,
    pii_columns: frozenset[str] = frozenset(),
    candidate_table: str | None = None,
) -> DiffStats:
    """Compare `candidate_schema.table` with `prod_schema.table` on `key`. Reads only; the diff table is TEMP."""
    if not key:
        raise InputError("at least one key column is required")
    if sample_size < 0:
        raise InputError("sample size must be >= 0")
    start = dt.datetime.now(dt.UTC)
    cand_name = candidate_table or table
    prod_cols = _columns(con, prod_schema, table)
    cand_cols = _columns(con, candidate_schema, cand_name)
    for side, cols, name in (("prod", prod_cols, f"{prod_schema}.{table}"), ("candidate", cand_cols, f"{candidate_schema}.{cand_name}")):
        missing = [k for k in key if k not in cols]
        if missing:
            raise InputError(f"key column(s) {missing} not in {side} table {name} (columns: {cols})")
    common = [c for c in prod_cols if c in cand_cols]
    compared = [c for c in common if c not in key]
    prod_t = f"{q(prod_schema)}.{q(table)}"
    cand_t = f"{q(candidate_schema)}.{q(cand_name)}"

    p_rows, _, _, p_nn = _profile(con, prod_t, key, common, distinct=False)
    c_rows, c_distinct, c_null_keys, c_nn = _profile(con, cand_t, key, common, distinct=True)

    keys = ", ".join(q(k) for k in key)
    row_hash = f"hash({', '.join(q(c) for c in compared)})" if compared else "0"
    on = " AND ".join(f"p.{q(k)} = c.{q(k)}" for k in key)
    out_keys = ", ".join(f"coalesce(p.{q(k)}, c.{q(k)}) AS {q(k)}" for k in key)
    con.execute(f"DROP TABLE IF EXISTS temp.{DIFF_TABLE}")
    con.execute(
        f"CREATE TEMP TABLE {DIFF_TABLE} AS SELECT {out_keys}, "  # noqa: S608 (quoted identifiers only)
        "CASE WHEN p.__h IS NULL THEN 'added' WHEN c.__h IS NULL THEN 'removed' ELSE 'changed' END AS __status "
        f"FROM (SELECT {keys}, {row_hash} AS __h FROM {prod_t}) p "
        f"FULL OUTER JOIN (SELECT {keys}, {row_hash} AS __h FROM {cand_t}) c ON {on} "
        "WHERE p.__h IS NULL OR c.__h IS NULL OR p.__h <> c.__h"
    )
    counts = dict(con.execute(f"SELECT __status, count(*) FROM {DIFF_TABLE} GROUP BY 1").fetchall())  # noqa: S608
    sample = _sample(con, prod_t, cand_t, key, common, sample_size, pii_columns) if sample_size else []
    con.execute(f"DROP TABLE IF EXISTS temp.{DIFF_TABLE}")
    return DiffStats(
        prod_table=f"{prod_schema}.{table}",
        candidate_table=f"{candidate_schema}.{cand_name}",
        key=tuple(key),
        prod_rows=p_rows,
        candidate_rows=c_rows,
        candidate_duplicate_keys=c_rows - c_null_keys - c_distinct,
        candidate_null_keys=c_null_keys,
        rows_added=int(counts.get("added", 0)),
        rows_removed=int(counts.get("removed", 0)),
        rows_changed=int(counts.get("changed", 0)),
        columns_compared=tuple(compared),
        columns_only_in_prod=tuple(c for c in prod_cols if c not in cand_cols),
        columns_only_in_candidate=tuple(c for c in cand_cols if c not in prod_cols),
        nulls=tuple(ColumnNulls(column=c, prod_nulls=p_rows - pn, candidate_nulls=c_rows - cn)
                    for c, pn, cn in zip(common, p_nn, c_nn, strict=True)),
        sample=tuple(sample),
        duration_s=round((dt.datetime.now(dt.UTC) - start).total_seconds(), 3),
    )


def _lookup(con: duckdb.DuckDBPyConnection, table: str, key: Sequence[str], common: Sequence[str],
            keys: list[tuple[Any, ...]]) -> dict[tuple[Any, ...], tuple[Any, ...]]:
    """Rows of `table` whose key is in `keys` (a bound-parameter filter the scan can push down; no join)."""
    if not keys:
        return {}
    one = "(" + " AND ".join(f"{q(k)} = ?" for k in key) + ")"
    cols = ", ".join(q(c) for c in [*key, *common])
    params = [v for k in keys for v in k]
    rows = con.execute(f"SELECT {cols} FROM {table} WHERE {' OR '.join([one] * len(keys))}", params).fetchall()  # noqa: S608
    return {tuple(r[: len(key)]): tuple(r[len(key):]) for r in rows}


def _sample(
    con: duckdb.DuckDBPyConnection, prod_t: str, cand_t: str, key: Sequence[str], common: Sequence[str], n: int, pii: frozenset[str],
) -> list[SampleRow]:
    """At most `n` differing rows, round-robin over added/removed/changed so each kind is represented."""
    keys = ", ".join(q(k) for k in key)
    picked = con.execute(
        f"SELECT __status, {keys} FROM (SELECT *, row_number() OVER (PARTITION BY __status ORDER BY {keys}) AS __rn "  # noqa: S608
        f"FROM {DIFF_TABLE}) ORDER BY __rn, __status LIMIT {int(n)}"
    ).fetchall()
    wanted = [tuple(r[1:]) for r in picked if None not in r[1:]]
    prod_rows = _lookup(con, prod_t, key, common, wanted)
    cand_rows = _lookup(con, cand_t, key, common, wanted)

    def shown(col: str, value: Any) -> Any:
        return MASK if col in pii and value is not None else _jsonable(value)

    out = []
    for status, *key_vals in picked:
        k = tuple(key_vals)
        p_vals, c_vals = prod_rows.get(k), cand_rows.get(k)
        prod = {c: shown(c, v) for c, v in zip(common, p_vals, strict=True)} if p_vals is not None else None
        cand = {c: shown(c, v) for c, v in zip(common, c_vals, strict=True)} if c_vals is not None else None
        changed = (tuple(c for c, a, b in zip(common, p_vals, c_vals, strict=True) if a != b)
                   if p_vals is not None and c_vals is not None else ())
        out.append(SampleRow(status=status, key={kc: shown(kc, v) for kc, v in zip(key, k, strict=True)},
                             changed_columns=changed, prod=prod, candidate=cand))
    return out
