"""The prod-vs-candidate diff, as DuckDB SQL.

Why hand-written SQL rather than SQLMesh's table_diff: the gate needs per-column null rates, key uniqueness and
added/removed/changed counts in one bounded-time pass over two multi-million-row tables; table_diff computes a
column-by-column match matrix through a generic engine-adapter layer and takes several times longer on the same
tables (see bench/data_diff.py). The work is three scans and one join, nothing materialised:
- one aggregate per table: row count, null keys, non-null count per column (cheap: validity masks);
- one hash join on the key, consumed by ONE aggregate: added / removed / changed counts (a hash of the non-key
  columns compared), the number of joined pairs, the first ``sample_size`` keys of each kind (DuckDB's top-n
  ``min(x, n)``) and the distinct keys among the added rows.
Key uniqueness of the candidate without a distinct count over the whole table (that hash aggregate was ~35 % of the
time): the join yields sum(prod_n x cand_n) pairs over the matched keys, which equals the matched prod rows exactly
when every matched key occurs once in the candidate; the unmatched (added) candidate rows are checked by their own,
small, distinct count. Only when the pair count shows a duplicate does the exact ``count(DISTINCT key)`` run (the
candidate is then blocked anyway). Answers are those of the plain join (pairs), i.e. those of SQLMesh's table_diff.
"""

from __future__ import annotations

import datetime as dt
import decimal
import uuid
from collections.abc import Sequence
from typing import Any, Literal

import duckdb
from pydantic import BaseModel, ConfigDict  # pants: no-infer-dep (installed by dbt-core, see dbt/BUILD)

MASK = "***masked***"


class InputError(ValueError):
    """A table, schema or key column that does not exist. The message names it."""


class ColumnNulls(BaseModel):
    model_config = ConfigDict(frozen=True)

    column: str
    prod_nulls: int
    candidate_nulls: int


Status = Literal["added", "removed", "changed"]


class SampleRow(BaseModel):
    """One differing row as evidence. PII columns carry MASK instead of their values."""

    model_config = ConfigDict(frozen=True)

    status: Status
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
    c_rows, _, c_null_keys, c_nn = _profile(con, cand_t, key, common, distinct=False)
    j = _join_counts(con, prod_t, cand_t, key, compared, sample_size)
    if j.pairs == p_rows - j.removed:  # every matched key occurs once in the candidate (module docstring)
        duplicates = (j.added - c_null_keys) - j.added_distinct
    else:
        _, c_distinct, _, _ = _profile(con, cand_t, key, [], distinct=True)
        duplicates = c_rows - c_null_keys - c_distinct
    sample = _sample(con, prod_t, cand_t, key, common, sample_size, pii_columns, j.sample_keys) if sample_size else []
    return DiffStats(
        prod_table=f"{prod_schema}.{table}",
        candidate_table=f"{candidate_schema}.{cand_name}",
        key=tuple(key),
        prod_rows=p_rows,
        candidate_rows=c_rows,
        candidate_duplicate_keys=duplicates,
        candidate_null_keys=c_null_keys,
        rows_added=j.added,
        rows_removed=j.removed,
        rows_changed=j.changed,
        columns_compared=tuple(compared),
        columns_only_in_prod=tuple(c for c in prod_cols if c not in cand_cols),
        columns_only_in_candidate=tuple(c for c in cand_cols if c not in prod_cols),
        nulls=tuple(ColumnNulls(column=c, prod_nulls=p_rows - pn, candidate_nulls=c_rows - cn)
                    for c, pn, cn in zip(common, p_nn, c_nn, strict=True)),
        sample=tuple(sample),
        duration_s=round((dt.datetime.now(dt.UTC) - start).total_seconds(), 3),
    )


class _JoinCounts(BaseModel):
    pairs: int
    added: int
    removed: int
    changed: int
    added_distinct: int
    sample_keys: dict[str, list[tuple[Any, ...]]]


def _join_counts(con: duckdb.DuckDBPyConnection, prod_t: str, cand_t: str, key: Sequence[str],
                 compared: Sequence[str], n: int) -> _JoinCounts:
    """The one join: counts of added/removed/changed rows and joined pairs, the distinct added keys and the first
    ``n`` keys of each kind, in a single aggregate over the join (no temporary table)."""
    keys = ", ".join(q(k) for k in key)
    row_hash = f"hash({', '.join(q(c) for c in compared)})" if compared else "0"
    on = " AND ".join(f"p.{q(k)} = c.{q(k)}" for k in key)

    def key_of(side: str) -> str:
        return f"{side}.{q(key[0])}" if len(key) == 1 else "{" + ", ".join(f"'k{i}': {side}.{q(k)}"
                                                                         for i, k in enumerate(key)) + "}"

    not_null = " AND ".join(f"c.{q(k)} IS NOT NULL" for k in key)
    tops = (f", min({key_of('c')}, {int(n)}) FILTER (WHERE p.__h IS NULL), "
            f"min({key_of('p')}, {int(n)}) FILTER (WHERE c.__h IS NULL), "
            f"min({key_of('p')}, {int(n)}) FILTER (WHERE p.__h <> c.__h)") if n else ""
    row = con.execute(
        "SELECT count(*) FILTER (WHERE p.__h IS NOT NULL AND c.__h IS NOT NULL), "  # noqa: S608 (quoted identifiers)
        "count(*) FILTER (WHERE p.__h IS NULL), count(*) FILTER (WHERE c.__h IS NULL), "
        "count(*) FILTER (WHERE p.__h <> c.__h), "
        f"count(DISTINCT {key_of('c')}) FILTER (WHERE p.__h IS NULL AND {not_null}){tops} "
        f"FROM (SELECT {keys}, {row_hash} AS __h FROM {prod_t}) p "
        f"FULL OUTER JOIN (SELECT {keys}, {row_hash} AS __h FROM {cand_t}) c ON {on}"
    ).fetchone()
    assert row is not None

    def as_tuple(v: Any) -> tuple[Any, ...]:
        return tuple(v.values()) if isinstance(v, dict) else (v,)

    sample_keys = {status: [as_tuple(v) for v in (row[5 + i] or [])] if n else []
                   for i, status in enumerate(("added", "removed", "changed"))}
    return _JoinCounts(pairs=int(row[0]), added=int(row[1]), removed=int(row[2]), changed=int(row[3]),
                       added_distinct=int(row[4]), sample_keys=sample_keys)


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
    con: duckdb.DuckDBPyConnection, prod_t: str, cand_t: str, key: Sequence[str], common: Sequence[str], n: int,
    pii: frozenset[str], keys_by_status: dict[str, list[tuple[Any, ...]]],
) -> list[SampleRow]:
    """At most `n` differing rows, round-robin over added/changed/removed (each in key order) so each kind is
    represented; rows whose key has a NULL part cannot be looked up and are not sampled."""
    picked: list[tuple[Status, tuple[Any, ...]]] = []
    statuses: tuple[Status, ...] = ("added", "changed", "removed")
    for rank in range(n):
        for status in statuses:
            got = keys_by_status.get(status, [])
            if rank < len(got) and len(picked) < n:
                picked.append((status, got[rank]))
    wanted = [k for _, k in picked if None not in k]
    prod_rows = _lookup(con, prod_t, key, common, wanted)
    cand_rows = _lookup(con, cand_t, key, common, wanted)

    def shown(col: str, value: Any) -> Any:
        return MASK if col in pii and value is not None else _jsonable(value)

    out = []
    for status, k in picked:
        p_vals, c_vals = prod_rows.get(k), cand_rows.get(k)
        prod = {c: shown(c, v) for c, v in zip(common, p_vals, strict=True)} if p_vals is not None else None
        cand = {c: shown(c, v) for c, v in zip(common, c_vals, strict=True)} if c_vals is not None else None
        changed = (tuple(c for c, a, b in zip(common, p_vals, c_vals, strict=True) if a != b)
                   if p_vals is not None and c_vals is not None else ())
        out.append(SampleRow(status=status, key={kc: shown(kc, v) for kc, v in zip(key, k, strict=True)},
                             changed_columns=changed, prod=prod, candidate=cand))
    return out
