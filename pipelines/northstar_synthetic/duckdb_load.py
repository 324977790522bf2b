"""Load a written dataset into a DuckDB file's ``bronze`` schema, named by the sources.yaml contract.

Why from the written files and not from Python rows: DuckDB's CSV/JSON readers load millions of rows in seconds,
and loading what was written proves the files themselves are what dbt/SQLMesh sees. Each bronze table also gets the
lineage columns the ingesting Spark jobs add: ``_ingested_at`` and ``_source_file`` (PostgreSQL, S3) or
``_kafka_offset`` (Kafka, the line number in the topic file). duckdb is optional: imported only here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from northstar_synthetic.schema import TABLES, TableSpec

INGESTED_AT = "2024-01-01 00:00:00"  # fixed so a reload is byte-for-byte the same warehouse content


def duckdb_type(logical: str) -> str:
    return {"bigint": "BIGINT", "int": "INTEGER", "varchar": "VARCHAR", "date": "DATE", "timestamp": "TIMESTAMP",
            "boolean": "BOOLEAN"}.get(logical, logical.upper())


def _files(out_dir: Path, spec: TableSpec) -> list[str]:
    if spec.system in ("retail_oltp", "finance_erp"):
        pattern = f"postgres/{spec.system}/{spec.name}.csv"
    elif spec.system == "kafka":
        pattern = f"kafka/{spec.location}/*.jsonl"
    else:
        pattern = f"s3/{spec.location}/dt=*/*.{'json' if spec.file_format == 'json' else 'csv'}"
    return sorted(str(p) for p in out_dir.glob(pattern))


def load_bronze(out_dir: Path, database: Path) -> dict[str, int]:
    """(Re)create ``bronze.<system>__<name>`` for every table; returns row counts per table."""
    import duckdb  # pants: no-infer-dep  (optional: only the dbt resolve has it)

    con: Any = duckdb.connect(str(database))
    counts: dict[str, int] = {}
    try:
        con.execute("CREATE SCHEMA IF NOT EXISTS bronze")
        for key, spec in TABLES.items():
            files = _files(out_dir, spec)
            if not files:
                raise FileNotFoundError(f"{key}: no files under {out_dir} (write the dataset first)")
            columns = "{" + ", ".join(f"'{c}': '{duckdb_type(t)}'" for c, t in spec.columns) + "}"
            select = ", ".join(f'"{c}"' for c in spec.column_names)
            if spec.file_format == "json":
                reader = f"read_json({files!r}, format='newline_delimited', columns={columns}, filename=true)"
            else:
                reader = f"read_csv({files!r}, header=true, columns={columns}, filename=true)"
            lineage = ("row_number() OVER () - 1 AS _kafka_offset" if spec.system == "kafka"
                       else "filename AS _source_file")
            con.execute(f"CREATE OR REPLACE TABLE bronze.{key} AS SELECT {select}, "  # noqa: S608 - names from schema.TABLES
                        f"TIMESTAMP '{INGESTED_AT}' AS _ingested_at, {lineage} FROM {reader}")
            counts[key] = int(con.execute(f"SELECT count(*) FROM bronze.{key}").fetchone()[0])  # noqa: S608
    finally:
        con.close()
    return counts
