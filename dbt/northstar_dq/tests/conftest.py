"""A real dbt project folder and a real DuckDB warehouse with a prod and a candidate schema."""

from __future__ import annotations

import textwrap
from pathlib import Path

import duckdb
import pytest

PROJECT_YML = """\
name: shop
version: "1.0.0"
config-version: 2
model-paths: ["models"]
models:
  shop:
    staging:
      +meta:
        data_quality:
          max_rows_removed_pct: 12
"""

MARTS_SCHEMA = """\
version: 2
models:
  - name: fct_orders
    config:
      meta:
        data_quality:
          max_row_count_delta_pct: 10
          max_rows_changed_pct: 50
    columns:
      - name: order_id
      - name: email
        tags: [pii]
      - name: amount
"""


@pytest.fixture()
def project(tmp_path: Path) -> Path:
    root = tmp_path / "dbt"
    (root / "models" / "marts").mkdir(parents=True)
    (root / "models" / "staging").mkdir(parents=True)
    (root / "dbt_project.yml").write_text(PROJECT_YML)
    (root / "models" / "marts" / "schema.yml").write_text(MARTS_SCHEMA)
    (root / "models" / "marts" / "fct_orders.sql").write_text("select 1 as order_id\n")
    (root / "models" / "staging" / "stg_orders.sql").write_text("select 1 as order_id\n")
    return root


@pytest.fixture()
def warehouse(tmp_path: Path) -> Path:
    """prod.fct_orders and dev.fct_orders, 1000 identical rows each; tests mutate dev."""
    path = tmp_path / "wh.duckdb"
    con = duckdb.connect(str(path))
    con.execute(textwrap.dedent("""
        CREATE SCHEMA prod; CREATE SCHEMA dev;
        CREATE TABLE prod.fct_orders AS
          SELECT i AS order_id, 'user' || i || '@example.com' AS email, round(i * 1.5, 2)::DECIMAL(12,2) AS amount,
                 DATE '2024-01-01' + (i % 30)::INTEGER AS order_date
          FROM range(1, 1001) t(i);
        CREATE TABLE dev.fct_orders AS SELECT * FROM prod.fct_orders;
    """))
    con.close()
    return path


def sql(path: Path, statement: str) -> None:
    con = duckdb.connect(str(path))
    con.execute(statement)
    con.close()
