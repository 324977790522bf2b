"""Loading the written files into DuckDB's bronze schema (dbt resolve: the only one with duckdb)."""

from __future__ import annotations

from pathlib import Path

import duckdb

from northstar_synthetic import TABLES, Config, generate, write_dataset
from northstar_synthetic.duckdb_load import load_bronze


def test_bronze_tables_match_generated_rows(tmp_path: Path) -> None:
    data = generate(Config(seed=3, orders=300, days=2))
    write_dataset(data, tmp_path / "files")
    counts = load_bronze(tmp_path / "files", tmp_path / "wh.duckdb")
    assert counts == data.counts()
    con = duckdb.connect(str(tmp_path / "wh.duckdb"))
    try:
        tables = {r[0] for r in con.execute("select table_name from information_schema.tables where table_schema='bronze'").fetchall()}
        assert tables == set(TABLES)
        unbalanced = con.execute(
            "select count(*) from (select journal_entry_id from bronze.finance_erp__gl_journal_lines"
            " group by 1 having sum(debit) <> sum(credit))").fetchone()
        assert unbalanced == (0,)
        types = dict(con.execute("select column_name, data_type from information_schema.columns "
                                 "where table_schema='bronze' and table_name='kafka__order_events'").fetchall())
        assert types["total_amount"] == "DECIMAL(12,2)" and types["event_at"] == "TIMESTAMP"
        assert types["_kafka_offset"] == "BIGINT" and types["_ingested_at"] == "TIMESTAMP"
        orphans = con.execute("select count(*) from bronze.retail_oltp__order_lines l left join bronze.retail_oltp__orders o "
                              "using (order_id) where o.order_id is null").fetchone()
        assert orphans == (0,)
    finally:
        con.close()
