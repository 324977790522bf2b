"""The jobs on the platform's shared synthetic data (pipelines/northstar_synthetic, seeded, referentially intact).

Why in addition to the hand-made cases: the generator is what the demo and the benchmarks feed the platform, so the
jobs must accept its vocabulary (movement types, statuses) and its journals must pass the ledger's balance rule.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from pyspark.sql import DataFrame, SparkSession

from northstar_spark import common
from northstar_spark.jobs import export_finance_ledger_s3, ingest_retail_oltp_snapshot, inventory_reconciliation
from northstar_synthetic.context import Config
from northstar_synthetic.dataset import Dataset, generate


@pytest.fixture(scope="module")
def dataset() -> Dataset:
    return generate(Config(seed=7, orders=40, days=3))


def _table(spark: SparkSession, data: Dataset, system: str, table: str) -> DataFrame:
    return spark.createDataFrame(data.tables[f"{system}__{table}"], common.source_schema(system, table))


def test_generated_journals_export_balanced(spark: SparkSession, dataset: Dataset) -> None:
    entries, lines, accounts = (_table(spark, dataset, "finance_erp", t)
                                for t in ("gl_journal_entries", "gl_journal_lines", "gl_accounts"))
    ledger = export_finance_ledger_s3.transform(entries, lines, accounts).collect()
    assert ledger
    assert sum(r["debit_total"] for r in ledger) == sum(r["credit_total"] for r in ledger) > Decimal(0)
    assert sum(r["line_count"] for r in ledger) == len(dataset.tables["finance_erp__gl_journal_lines"])


def test_generated_inventory_reconciles_and_snapshot_ingests(spark: SparkSession, dataset: Dataset) -> None:
    result = inventory_reconciliation.transform(
        _table(spark, dataset, "retail_oltp", "inventory_snapshots"), _table(spark, dataset, "kafka", "inventory_movements")
    )
    assert result.count() > 0  # every generated movement type is known (an unknown one raises JobDataError)
    bronze = ingest_retail_oltp_snapshot.transform(_table(spark, dataset, "retail_oltp", "customers"), "customers")
    assert bronze.count() == len(dataset.tables["retail_oltp__customers"])
