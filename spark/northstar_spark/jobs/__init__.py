"""The Northstar Spark jobs: one module per job, each with ``JOB_NAME``, ``KIND``, ``INPUT_SCHEMAS``,
``OUTPUT_SCHEMA`` and ``main(argv, spark=None)`` (batch jobs also expose a pure ``transform``).

``JOBS`` is the registry tests iterate over; spark/BUILD declares one PEX per name (tag ``spark_job``) and the
pipeline catalog refers to jobs by these names.
"""

from __future__ import annotations

import importlib
from types import ModuleType

BATCH_JOBS: tuple[str, ...] = (
    "ingest_retail_oltp_cdc",
    "ingest_retail_oltp_snapshot",
    "ingest_finance_erp_snapshot",
    "ingest_inventory_snapshots",
    "ingest_supplier_catalog",
    "ingest_advance_shipping_notices",
    "ingest_marketing_campaigns",
    "ingest_marketing_spend",
    "ingest_exchange_rates",
    "ingest_store_footfall",
    "daily_revenue",
    "customer_identity_resolution",
    "inventory_reconciliation",
    "product_affinity",
    "export_finance_ledger_s3",
    "export_marketing_audiences",
)
STREAMING_JOBS: tuple[str, ...] = (
    "stream_order_events",
    "stream_payment_events",
    "stream_pos_transactions",
    "stream_inventory_movements",
)
JOBS: tuple[str, ...] = BATCH_JOBS + STREAMING_JOBS


def load(name: str) -> ModuleType:
    """Import a job module by name (``ValueError`` for names not in the registry)."""
    if name not in JOBS:
        raise ValueError(f"unknown Spark job {name!r}; known: {', '.join(JOBS)}")
    return importlib.import_module(f"northstar_spark.jobs.{name}")
