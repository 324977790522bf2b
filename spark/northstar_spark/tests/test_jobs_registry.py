"""Every registered job, run through its real ``main()`` on generated data: contract attributes, schemas, output.

One parametrized test per job keeps the generic guarantees uniform; job-specific behaviour is asserted in the
test_<area>_jobs.py files. All tests share the session-scoped SparkSession (conftest) to keep wall time low.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from pyspark.sql import SparkSession
from pyspark.sql.types import StructType

from northstar_spark import common, jobs
from northstar_spark.tests import synthetic

ROWS = 6
# Inputs of the analytical jobs need coherent values (balanced journals, known movement types): per input, the
# primary key and overrides. Ingestion jobs take their keys from the contract.
SCENARIOS: dict[str, dict[str, dict[str, Any]]] = {
    "export_finance_ledger_s3": {
        "gl_journal_lines": {"pk": ["journal_line_id"], "overrides": {
            "journal_entry_id": lambda i: i // 2 + 1,
            "debit": lambda i: synthetic.Decimal("10.00") if i % 2 == 0 else synthetic.Decimal("0.00"),
            "credit": lambda i: synthetic.Decimal("0.00") if i % 2 == 0 else synthetic.Decimal("10.00"),
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


def _name_of(path: str) -> str:
    return Path(path).stem


def _pk_for(module: Any, input_name: str) -> list[str]:
    scenario = SCENARIOS.get(module.JOB_NAME, {}).get(input_name, {})
    if "pk" in scenario:
        return list(scenario["pk"])
    system = getattr(module, "SYSTEM", None)
    table = getattr(module, "TABLE", None) or getattr(module, "DEFAULT_TABLE", None)
    if system and table:
        return common.primary_key(system, table)
    first = module.INPUT_SCHEMAS[input_name].fields[0].name
    return [first]


def test_registry_matches_build_targets_and_modules() -> None:
    build = (Path(__file__).resolve().parents[2] / "BUILD").read_text()  # a `files` dependency of the tests
    assert len(jobs.JOBS) == 20 and len(set(jobs.JOBS)) == 20
    assert len(jobs.STREAMING_JOBS) == 4
    found = sorted(p.stem for p in Path(jobs.__file__).parent.glob("*.py") if p.stem != "__init__")
    assert found == sorted(jobs.JOBS)
    assert sorted(re.findall(r'^    "(\w+)",$', build, re.M)) == sorted(jobs.JOBS)  # one pex_binary per job


@pytest.mark.parametrize("name", jobs.JOBS)
def test_job_declares_its_contract(name: str) -> None:
    module = jobs.load(name)
    assert module.JOB_NAME == name
    assert module.KIND == ("streaming" if name in jobs.STREAMING_JOBS else "batch")
    assert isinstance(module.OUTPUT_SCHEMA, StructType) and module.OUTPUT_SCHEMA.fields
    assert module.INPUT_SCHEMAS and all(isinstance(s, StructType) for s in module.INPUT_SCHEMAS.values())
    assert callable(module.main)
    if module.KIND == "batch":
        assert module.INPUT_FORMAT in ("csv", "json", "parquet")
    if name.startswith(("ingest_", "stream_")):
        names = module.OUTPUT_SCHEMA.names
        assert common.INGESTED_AT in names
        assert (common.KAFKA_OFFSET in names) if name.startswith("stream_") else (common.SOURCE_FILE in names)


def _ordered(schema: StructType) -> list[tuple[str, str]]:
    return [(f.name, f.dataType.simpleString()) for f in schema.fields]


@pytest.mark.parametrize("name", jobs.BATCH_JOBS)
def test_batch_job_main_writes_its_declared_schema(spark: SparkSession, tmp_path: Path, name: str) -> None:
    module = jobs.load(name)
    fmt = module.INPUT_FORMAT  # the job reads its default format: --input-format is not passed
    for input_name, schema in module.INPUT_SCHEMAS.items():
        scenario = SCENARIOS.get(name, {}).get(input_name, {})
        data = synthetic.rows(schema, ROWS, _pk_for(module, input_name), scenario.get("overrides"))
        synthetic.write_input(tmp_path / "in", input_name, fmt, schema, data)
    output = tmp_path / "out"
    argv = ["--input", str(tmp_path / "in"), "--output", str(output)]
    if name == "product_affinity":
        argv += ["--min-co-orders", "1"]

    assert module.main(argv, spark=spark) == 0

    written = spark.read.parquet(str(output))
    assert _ordered(written.schema) == _ordered(module.OUTPUT_SCHEMA)
    rows = written.count()
    if name.startswith("ingest_"):
        assert rows == ROWS  # unique keys, all rows valid: nothing dropped, nothing duplicated
    else:
        assert rows > 0


@pytest.mark.parametrize("name", jobs.STREAMING_JOBS)
def test_streaming_job_lands_records_in_bronze(spark: SparkSession, tmp_path: Path, name: str) -> None:
    module = jobs.load(name)
    value_schema = common.source_schema(module.SYSTEM, module.TABLE)
    values = synthetic.rows(value_schema, ROWS, common.primary_key(module.SYSTEM, module.TABLE))
    topic = common.table_spec(module.SYSTEM, module.TABLE)["topic"]
    synthetic.land(tmp_path / "landing", "part-0.json", synthetic.kafka_records(topic, value_schema, values, 100))
    output = tmp_path / "bronze"
    argv = ["--input", str(tmp_path / "landing"), "--output", str(output), "--checkpoint", str(tmp_path / "chk")]

    assert module.main(argv, spark=spark) == 0

    written = spark.read.parquet(str(output))
    assert _ordered(written.schema) == _ordered(module.OUTPUT_SCHEMA)
    offsets = sorted(r[common.KAFKA_OFFSET] for r in written.select(common.KAFKA_OFFSET).collect())
    assert offsets == list(range(100, 100 + ROWS))
