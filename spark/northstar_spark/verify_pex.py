"""Deploy-time verification of a *packaged* Spark job: run the job PEX under spark-submit, as production does.

``python -m northstar_spark.verify --job-pex PATH --job daily_revenue`` (or the ``spark_verify`` PEX) prints one JSON
object on stdout, a ``northstar_contracts.spark.SparkPexVerifyReport``::

    {"job", "pex_sha256", "rows", "schema_matches", "expected_schema", "actual_schema", "seconds", "mode", ...}

exit 0 = the job ran and its output matches the schema it declares; 1 = it failed or the schema drifted;
2 = usage (no such PEX, no fixture for the job, no spark-submit).

How the PEX is run -- the production launch, in local mode:
* ``$SPARK_HOME/bin/spark-submit --master local[2] <launcher.py> --input <fixture> --output <tmp>`` with
  ``PYSPARK_PYTHON`` and ``PYSPARK_DRIVER_PYTHON`` = the job PEX. SPARK_HOME is pyspark's own folder in *this*
  environment (pip's pyspark bundles bin/spark-submit and the jars) and is set explicitly: spark-submit's
  find-spark-home would otherwise ask $PYSPARK_PYTHON (the PEX) to locate pyspark.
* The job PEX does not contain pyspark. spark-submit puts ``$SPARK_HOME/python/lib/{pyspark,py4j}.zip`` on PYTHONPATH;
  the PEX is built with ``inherit_path="fallback"``, so it sees them after its own code (that is why the flag exists).
* spark-submit's primary resource must be a ``.py`` file, so the driver runs the PEX in interpreter mode
  (``PEX_INTERPRETER=1``) on a small launcher that imports the PEX's *declared* entry point (from its PEX-INFO) and calls
  it; afterwards, in the same Spark application (one JVM start, not two), the launcher reads the output back and records
  its schema, its rows and the job module's ``OUTPUT_SCHEMA`` -- the schema declared by the code *inside the PEX*, so
  verifying an older release after a rollback checks that release's own contract.
* Spark's logs (log4j at WARN, to stderr) and anything the job prints go to stderr; stdout carries only the JSON.

The fixture (input rows) comes from ``verify.JOBS`` (passed in by the caller: this module does not import ``verify``).
Several jobs at once: ``verify_batch`` runs every job PEX against one shared JVM with the same launcher.
``values_match`` compares with the fixture's expected rows (False for a generated fixture without them) and is
reported as evidence only: a release may
legitimately change a job's values, while its output must always match the schema it declares. Schema comparison
ignores nullability (Spark reads every Parquet column back as nullable).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from northstar_contracts.harness import UsageError
from northstar_contracts.spark import SparkPexVerifyReport
from northstar_spark.fixture import JobFixture

LAUNCHER = '''\
"""spark-submit primary resource written by northstar_spark.verify_pex; runs inside the job PEX (PEX_INTERPRETER=1)."""
import importlib, json, os, runpy, sys, zipfile

def _describe(module, output):
    from pyspark.sql import SparkSession
    spark = SparkSession.getActiveSession() or SparkSession.builder.getOrCreate()
    df = spark.read.parquet(output)
    ordered = df.orderBy(df.columns[0]).collect() if df.columns else []
    declared = getattr(module, "OUTPUT_SCHEMA", None) if module is not None else None
    return {
        "actual_schema": df.schema.jsonValue(),
        "declared_schema": declared.jsonValue() if declared is not None else None,
        "rows": [[v if isinstance(v, (int, float, str, bool)) or v is None else str(v) for v in r] for r in ordered],
    }

def _main():
    result_path = os.environ["NORTHSTAR_VERIFY_RESULT"]
    args = sys.argv[1:]
    output = args[args.index("--output") + 1]
    with zipfile.ZipFile(os.environ["PEX"]) as zf:
        entry_point = json.loads(zf.read("PEX-INFO"))["entry_point"]
    module_name, _, func_name = entry_point.partition(":")
    sys.argv = [module_name, *args]
    module = None
    if func_name:
        module = importlib.import_module(module_name)
        code = getattr(module, func_name)()
    else:
        runpy.run_module(module_name, run_name="__main__", alter_sys=True)
        code = 0
    report = {"entry_point": entry_point, "job_exit_code": int(code or 0), "driver_python": sys.executable,
              "job_module_file": getattr(module, "__file__", None)}
    if not code:
        report.update(_describe(module, output))
    with open(result_path, "w") as fh:
        json.dump(report, fh)
    from pyspark.sql import SparkSession
    active = SparkSession.getActiveSession()
    if active is not None:  # a shared JVM (verify_batch) runs the next job's context after this one
        active.stop()
    return int(code or 0)

sys.exit(_main())
'''

LOG4J2 = """\
rootLogger.level = warn
rootLogger.appenderRef.stderr.ref = console
appender.console.type = Console
appender.console.name = console
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %d{HH:mm:ss} %p %c{1}: %m%n
logger.parquet.name = org.apache.parquet
logger.parquet.level = error
"""

STDERR_TAIL = 3000


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def spark_home() -> Path:
    """pyspark's own folder: pip's pyspark ships bin/spark-submit and jars there."""
    import pyspark

    home = Path(pyspark.__file__).resolve().parent
    if not (home / "bin" / "spark-submit").exists():
        raise UsageError(f"no bin/spark-submit under {home} (pyspark without its launcher scripts)")
    return home


def _normalised(schema: dict[str, Any] | None) -> list[tuple[str, str]] | None:
    """Names and types only: Parquet reads every column back as nullable, and metadata is not a contract."""
    if schema is None:
        return None
    return [(f["name"], json.dumps(f["type"], sort_keys=True)) for f in schema.get("fields", [])]


@dataclass(frozen=True)
class JobPex:
    """A job PEX checked before anything runs: its resolved path, PEX-INFO and digest."""

    job: str
    path: Path
    info: dict[str, Any]
    sha256: str


def inspect_pex(job: str, pex: Path, jobs: dict[str, JobFixture]) -> JobPex:
    """Usage errors (exit 2) for an unknown job, a missing file or a file that is not a PEX."""
    if job not in jobs:
        raise UsageError(f"no verification fixture for job {job!r} (known: {', '.join(sorted(jobs))})", job=job)
    if not pex.is_file():
        raise UsageError(f"job PEX not found: {pex}", job=job)
    pex = pex.resolve()
    try:
        with zipfile.ZipFile(pex) as zf:
            info = json.loads(zf.read("PEX-INFO"))
    except (zipfile.BadZipFile, KeyError, json.JSONDecodeError) as exc:
        raise UsageError(f"{pex} is not a PEX file: {exc}", job=job) from exc
    return JobPex(job=job, path=pex, info=info, sha256=sha256_file(pex))


def stage_run(folder: Path, job: JobPex, fixture: JobFixture) -> tuple[Path, bool]:
    """Write the fixture inputs, the launcher and the log config into ``folder``; return the runnable PEX path and
    whether it is an executable copy (spark-submit execs PYSPARK_PYTHON; a store blob is usually not executable)."""
    fixture.write(folder / "input")
    (folder / "launcher.py").write_text(LAUNCHER)
    (folder / "log4j2.properties").write_text(LOG4J2)
    if os.access(job.path, os.X_OK):
        return job.path, False
    runnable = folder / job.path.name
    shutil.copyfile(job.path, runnable)
    runnable.chmod(0o755)
    return runnable, True


def clean_env() -> dict[str, str]:
    """This process's environment minus our own PEX settings and PYTHONPATH: the job PEX gets pyspark from
    SPARK_HOME, as on a cluster."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PEX")}
    env.pop("PYTHONPATH", None)
    return env


def report_for(job: JobPex, fixture: JobFixture, *, mode: str, home: Path, java_home: str | None, ran_copy: bool,
               exit_code: int, result: dict[str, Any], stderr: str, started: float,
               spark_submit_exit_code: int | None) -> SparkPexVerifyReport:
    """The per-job record from the launcher's result file and the exit code of what ran it."""
    actual = result.get("actual_schema")
    declared = result.get("declared_schema")
    rows = result.get("rows")
    schema_matches = (exit_code == 0 and actual is not None and declared is not None
                      and _normalised(actual) == _normalised(declared))
    error = stderr_tail = None
    if declared is None and exit_code == 0:
        error = "the job module inside the PEX declares no OUTPUT_SCHEMA"
    elif exit_code != 0:
        error = f"{'spark-submit' if mode == 'spark-submit' else 'the job PEX'} exited {exit_code}"
        stderr_tail = stderr[-STDERR_TAIL:]
    return SparkPexVerifyReport(
        ok=schema_matches, job=job.job, pex=str(job.path), pex_sha256=job.sha256, mode=mode,
        entry_point=job.info.get("entry_point"), inherit_path=job.info.get("inherit_path"), spark_home=str(home),
        java_home=java_home, ran_copy=ran_copy,
        spark_submit_exit_code=spark_submit_exit_code,
        job_exit_code=result.get("job_exit_code"), driver_python=result.get("driver_python"),
        job_module_file=result.get("job_module_file"), rows=len(rows) if rows is not None else 0,
        schema_matches=schema_matches, expected_schema=declared, actual_schema=actual,
        values_match=rows is not None and rows == fixture.expected_json_rows(),
        seconds=round(time.monotonic() - started, 3), error=error, stderr_tail=stderr_tail)


def run_job_pex(job: str, pex: Path, jobs: dict[str, JobFixture], timeout_s: float = 600.0,
                cores: int = 2) -> SparkPexVerifyReport:
    """Run ``pex`` under its own spark-submit on the job's fixture; return the record (see module docstring)."""
    from northstar_spark.local import ensure_java_home

    started = time.monotonic()
    checked = inspect_pex(job, pex, jobs)
    fixture = jobs[job]
    home = spark_home()
    java_home = ensure_java_home()
    with tempfile.TemporaryDirectory(prefix=f"verify-pex-{job}-") as tmp:
        folder = Path(tmp)
        runnable, ran_copy = stage_run(folder, checked, fixture)
        result_file = folder / "result.json"
        env = clean_env()
        env.update({
            "SPARK_HOME": str(home),
            "PYSPARK_PYTHON": str(runnable),
            "PYSPARK_DRIVER_PYTHON": str(runnable),
            "PEX_INTERPRETER": "1",  # the PEX runs launcher.py (driver) and pyspark.daemon (workers)
            "NORTHSTAR_VERIFY_RESULT": str(result_file),
            "SPARK_LOCAL_IP": "127.0.0.1",
            "SPARK_CONF_DIR": str(folder),  # no stray spark-defaults.conf from the machine
        })
        if java_home:
            env["JAVA_HOME"] = java_home
        cmd = [str(home / "bin" / "spark-submit"), *spark_conf_args(folder, cores),
               "--conf", f"spark.pyspark.python={runnable}",
               str(folder / "launcher.py"), *fixture.argv(folder)]
        try:
            proc = subprocess.run(cmd, env=env, cwd=folder, capture_output=True, text=True, timeout=timeout_s)
            exit_code, out, err = proc.returncode, proc.stdout, proc.stderr
        except subprocess.TimeoutExpired as exc:
            exit_code = -1
            out = exc.stdout.decode(errors="replace") if isinstance(exc.stdout, bytes) else (exc.stdout or "")
            err = (exc.stderr.decode(errors="replace") if isinstance(exc.stderr, bytes) else (exc.stderr or ""))
            err += f"\nspark-submit timed out after {timeout_s:.0f}s"
        # Spark's logs and the job's own prints belong on stderr, never on our stdout.
        sys.stderr.write(out)
        sys.stderr.write(err)
        result = json.loads(result_file.read_text()) if result_file.exists() else {}
    return report_for(checked, fixture, mode="spark-submit", home=home, java_home=java_home, ran_copy=ran_copy,
                      exit_code=exit_code, result=result, stderr=err, started=started,
                      spark_submit_exit_code=exit_code)


def spark_conf_args(folder: Path, cores: int) -> list[str]:
    """spark-submit options shared by the single-job and the shared-JVM runs (local mode, quiet, deterministic)."""
    return [
        "--master", f"local[{cores}]",
        "--conf", "spark.ui.enabled=false", "--conf", "spark.ui.showConsoleProgress=false",
        "--conf", "spark.sql.shuffle.partitions=2", "--conf", "spark.sql.session.timeZone=UTC",
        "--conf", "spark.driver.host=127.0.0.1", "--conf", "spark.driver.bindAddress=127.0.0.1",
        "--conf", "spark.executorEnv.PEX_INTERPRETER=1",
        "--driver-java-options", f"-Dlog4j2.configurationFile=file:{folder / 'log4j2.properties'}",
    ]
