"""Deterministic synthetic Northstar Retail source data for every table of pipelines/catalog/sources.yaml.

Stdlib only, so the dbt, Spark and tools resolves can all import it. Typical use::

    from northstar_synthetic import Config, generate, write_dataset
    dataset = generate(Config(seed=7, orders=5_000, days=3))
    write_dataset(dataset, Path("/tmp/northstar-data"))       # CSV / JSON lines + manifest.json
    # optional, where duckdb is importable: northstar_synthetic.duckdb_load.load_bronze(folder, db_path)

or ``python -m northstar_synthetic --out DIR --orders 100000 [--duckdb FILE]``.
"""

from northstar_synthetic.context import Config
from northstar_synthetic.dataset import Dataset, generate
from northstar_synthetic.schema import TABLES, TableSpec
from northstar_synthetic.writers import table_files, write_dataset

__all__ = ["TABLES", "Config", "Dataset", "TableSpec", "generate", "table_files", "write_dataset"]
