"""Every registered job, run through its real ``main()`` on generated data: contract attributes, schemas, output.

One parametrized test per job keeps the generic guarantees uniform; job-specific behaviour is asserted in the
test_<area>_jobs.py files. All tests share the session-scoped SparkSession (conftest) to keep wall time low.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pyspark.sql import SparkSession
from pyspark.sql.types import StructType

from northstar_spark import common, jobs, verify_fixtures

# The generated inputs are the deploy-time verifier's (verify_fixtures): these tests prove each job succeeds on them.
ROWS = verify_fixtures.ROWS


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
    # The verifier's generated input, in the job's default format (--input-format is not passed).
    verify_fixtures.write_batch_inputs(module, tmp_path / "in")
    output = tmp_path / "out"
    argv = ["--input", str(tmp_path / "in"), "--output", str(output), *verify_fixtures.EXTRA_ARGS.get(name, ())]

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
    verify_fixtures.write_stream_records(module, tmp_path / "landing")  # the verifier's generated records
    output = tmp_path / "bronze"
    argv = ["--input", str(tmp_path / "landing"), "--output", str(output), "--checkpoint", str(tmp_path / "chk")]

    assert module.main(argv, spark=spark) == 0

    written = spark.read.parquet(str(output))
    assert _ordered(written.schema) == _ordered(module.OUTPUT_SCHEMA)
    offsets = sorted(r[common.KAFKA_OFFSET] for r in written.select(common.KAFKA_OFFSET).collect())
    assert offsets == list(range(verify_fixtures.FIRST_OFFSET, verify_fixtures.FIRST_OFFSET + ROWS))
