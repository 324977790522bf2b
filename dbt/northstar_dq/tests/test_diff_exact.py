"""The single-join diff gives the answers of the plain reference queries (a materialised full outer join and an exact
``count(DISTINCT key)``) in the cases its shortcut must get right: duplicates that are exact copies (invisible as
"changed"), duplicates among added keys, duplicates on the prod side only, NULL key parts and composite keys."""

from __future__ import annotations

import duckdb
import pytest

from northstar_dq.diff import diff_tables

SETUP = """
CREATE SCHEMA prod; CREATE SCHEMA dev;
CREATE TABLE prod.t AS SELECT i AS a, i % 3 AS b, 'v' || i AS v FROM range(1, 101) r(i);
CREATE TABLE dev.t AS SELECT * FROM prod.t;
"""

CASES = {
    "identical": [],
    "exact copy of a matched row (fan-out)": ["INSERT INTO dev.t SELECT * FROM prod.t WHERE a IN (5, 6)"],
    "duplicate among added keys": ["INSERT INTO dev.t VALUES (500, 0, 'x'), (500, 0, 'y'), (501, 1, 'z')"],
    "prod-side duplicates only": ["INSERT INTO prod.t SELECT * FROM prod.t WHERE a = 7"],
    "duplicates on both sides": ["INSERT INTO prod.t SELECT * FROM prod.t WHERE a = 8",
                                 "INSERT INTO dev.t SELECT * FROM prod.t WHERE a IN (8, 9)"],
    "null keys, changes, removals": ["INSERT INTO dev.t VALUES (NULL, 1, 'n'), (NULL, 2, 'n')",
                                     "UPDATE dev.t SET v = 'changed' WHERE a % 10 = 0",
                                     "DELETE FROM dev.t WHERE a % 25 = 1"],
}


def reference(con: duckdb.DuckDBPyConnection, key: list[str]) -> tuple[int, int, int, int]:
    on = " AND ".join(f"p.{k} = c.{k}" for k in key)
    nn = " AND ".join(f"{k} IS NOT NULL" for k in key)
    kx = key[0] if len(key) == 1 else "(" + ", ".join(key) + ")"
    cols = [c for c in ("a", "b", "v") if c not in key]
    h = f"hash({', '.join(cols)})"
    added, removed, changed = con.execute(
        f"SELECT count(*) FILTER (WHERE p.h IS NULL), count(*) FILTER (WHERE c.h IS NULL), "
        f"count(*) FILTER (WHERE p.h <> c.h) FROM (SELECT *, {h} h FROM prod.t) p "
        f"FULL OUTER JOIN (SELECT *, {h} h FROM dev.t) c ON {on}").fetchone()  # type: ignore[misc]
    rows, nulls, distinct = con.execute(
        f"SELECT count(*), count(*) FILTER (WHERE NOT ({nn})), count(DISTINCT {kx}) FILTER (WHERE {nn}) "
        "FROM dev.t").fetchone()  # type: ignore[misc]
    return added, removed, changed, rows - nulls - distinct


@pytest.mark.parametrize("key", [["a"], ["a", "b"]], ids=["single key", "composite key"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_same_answers_as_the_plain_queries(case: str, key: list[str]) -> None:
    con = duckdb.connect()
    con.execute(SETUP)
    for statement in CASES[case]:
        con.execute(statement)
    stats = diff_tables(con, "prod", "dev", "t", key, sample_size=4)
    got = (stats.rows_added, stats.rows_removed, stats.rows_changed, stats.candidate_duplicate_keys)
    assert got == reference(con, key), case
    assert len(stats.sample) <= 4
    assert all(None not in r.key.values() for r in stats.sample if r.prod or r.candidate)
