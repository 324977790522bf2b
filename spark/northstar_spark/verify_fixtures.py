"""Generated verification fixtures for every registered Spark job (``northstar_spark.jobs.JOBS``).

Why generated: the deploy-time verifier (``spark_verify``) must be able to run every job PEX a release ships -- 20
today -- on a small input, and a hand-written fixture per job would drift from the job's declared ``INPUT_SCHEMAS``.
Each fixture writes a few deterministic rows (``northstar_spark.synthetic``) per declared input, in the format the
job reads by default (batch) or as Kafka records in the local file-source stand-in (streaming). The few analytical
jobs whose rules need coherent values (a balanced journal, orders sharing products) get per-input overrides in
``SCENARIOS`` -- the same scenarios the job-registry tests run, so "the verifier's input makes the job succeed" is
tested for every job. There are no expected values: the verifier decides on the output schema (values are evidence
only); hand-checked values exist where a job has a hand-written fixture (``verify.JOBS``).
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from types import ModuleType
from typing import Any

from northstar_spark import common, jobs, synthetic
from northstar_spark.fixture import WORK, JobFixture

ROWS = 6
# Inputs of the analytical jobs need coherent values (balanced journals, known movement types): per input, the
# primary key and overrides. Ingestion jobs take their keys from the contract.
SCENARIOS: dict[str, dict[str, dict[str, Any]]] = {
    "export_finance_ledger_s3": {
        "gl_journal_lines": {"pk": ["journal_line_id"], "overrides": {
            "journal_entry_id": lambda i: i // 2 + 1,
            "debit": lambda i: Decimal("10.00") if i % 2 == 0 else Decimal("0.00"),
            "credit": lambda i: Decimal("0.00") if i % 2 == 0 else Decimal("10.00"),
            "currency_code": lambda i: "USD",
        }},
        "gl_journal_entries": {"pk": ["journal_entry_id"]},
        "gl_accounts": {"pk": ["account_id"]},
    },
    "product_affinity": {"order_lines": {"pk": ["order_line_id"], "overrides": {"order_id": lambda i: i // 3 + 1}}},
    "ingest_exchange_rates": {"exchange_rates": {"overrides": {"currency_code": lambda i: ("USD", "EUR", "GBP")[i % 3]}}},
    "daily_revenue": {"orders": {"pk": ["order_id"], "overrides": {"status": lambda i: "completed"}},
                      "payments": {"pk": ["payment_id"]}},
}
# Job arguments a generated run needs beyond --input/--output.
EXTRA_ARGS: dict[str, tuple[str, ...]] = {"product_affinity": ("--min-co-orders", "1")}
FIRST_OFFSET = 100


def pk_for(module: ModuleType, input_name: str) -> list[str]:
    """The columns that must be unique in a generated input: the scenario's, else the contract's primary key."""
    scenario = SCENARIOS.get(module.JOB_NAME, {}).get(input_name, {})
    if "pk" in scenario:
        return list(scenario["pk"])
    system = getattr(module, "SYSTEM", None)
    table = getattr(module, "TABLE", None) or getattr(module, "DEFAULT_TABLE", None)
    if system and table:
        return common.primary_key(system, table)
    return [module.INPUT_SCHEMAS[input_name].fields[0].name]


def write_batch_inputs(module: ModuleType, folder: Path, rows: int = ROWS) -> None:
    """``<folder>/<input>.<INPUT_FORMAT>`` for each declared input of a batch job."""
    for input_name, schema in module.INPUT_SCHEMAS.items():
        scenario = SCENARIOS.get(module.JOB_NAME, {}).get(input_name, {})
        data = synthetic.rows(schema, rows, pk_for(module, input_name), scenario.get("overrides"))
        synthetic.write_input(folder, input_name, module.INPUT_FORMAT, schema, data)


def write_stream_records(module: ModuleType, folder: Path, rows: int = ROWS) -> None:
    """One landed JSON-lines file of Kafka records (the file-source stand-in) with consecutive offsets."""
    value_schema = common.source_schema(module.SYSTEM, module.TABLE)
    values = synthetic.rows(value_schema, rows, common.primary_key(module.SYSTEM, module.TABLE))
    topic = common.table_spec(module.SYSTEM, module.TABLE)["topic"]
    synthetic.land(folder, "part-0.json", synthetic.kafka_records(topic, value_schema, values, FIRST_OFFSET))


def generated(name: str) -> JobFixture:
    """The generated fixture of registered job ``name`` (ValueError for an unknown job)."""
    module = jobs.load(name)
    if name in jobs.STREAMING_JOBS:
        return JobFixture(main=module.main, output_schema=module.OUTPUT_SCHEMA,
                          writer=lambda folder: write_stream_records(module, folder),
                          args=("--checkpoint", f"{WORK}/checkpoint"))
    return JobFixture(main=module.main, output_schema=module.OUTPUT_SCHEMA,
                      writer=lambda folder: write_batch_inputs(module, folder), args=EXTRA_ARGS.get(name, ()))


def all_generated() -> dict[str, JobFixture]:
    """A generated fixture for every registered job, in registry order."""
    return {name: generated(name) for name in jobs.JOBS}
