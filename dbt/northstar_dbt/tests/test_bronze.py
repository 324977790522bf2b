"""The bronze hook on real DuckDB: loads the synthetic bronze layer once, never touches a loaded one, refuses a
half-loaded one (naming what is missing) without changing it."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from northstar_dbt.bronze import BronzeError, ensure_bronze, ensure_bronze_file, expected_tables


def _count(con: duckdb.DuckDBPyConnection, sql: str) -> int:
    row = con.execute(sql).fetchone()
    assert row is not None
    return int(row[0])


def _tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    rows = con.execute("select table_name from information_schema.tables where table_schema = 'bronze'").fetchall()
    return {r[0] for r in rows}


def test_loads_every_source_table_then_leaves_them_alone(tmp_path: Path) -> None:
    db = tmp_path / "wh.duckdb"
    con = duckdb.connect(str(db))
    first = ensure_bronze(con, orders=40, days=2)
    assert len(expected_tables()) == 37 and set(first.loaded) == set(expected_tables()) == _tables(con)
    assert _count(con, "select count(*) from bronze.retail_oltp__orders") == 40
    con.execute("delete from bronze.retail_oltp__orders where order_id > 10")  # e.g. data someone else loaded
    con.close()
    again = ensure_bronze_file(db)
    assert again.loaded == () and again.present == 37
    con = duckdb.connect(str(db))
    assert _count(con, "select count(*) from bronze.retail_oltp__orders") == 10
    con.close()


def test_partially_loaded_bronze_is_refused_unchanged(tmp_path: Path) -> None:
    con = duckdb.connect(str(tmp_path / "wh.duckdb"))
    con.execute("create schema bronze")
    con.execute("create table bronze.retail_oltp__orders (order_id bigint)")
    with pytest.raises(BronzeError, match=r"partially loaded: missing .*finance_erp__gl_accounts"):
        ensure_bronze(con, orders=40, days=2)
    assert _tables(con) == {"retail_oltp__orders"}
