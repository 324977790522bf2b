"""Verify several packaged job PEXes against ONE Spark JVM instead of one spark-submit (one JVM start) per job.

Why: a JVM start plus Spark's class loading costs seconds per job; with ~20 jobs per release, one spark-submit per
job dominates a deployment. PySpark already separates the two halves: spark-submit starts a JVM with a py4j gateway
and hands its port and secret to the Python driver through ``PYSPARK_GATEWAY_PORT``/``PYSPARK_GATEWAY_SECRET``. Here
this process starts that JVM once (``pyspark.java_gateway.launch_gateway``, the same spark-submit with the same
options as ``verify_pex``), then runs each job PEX -- exactly as ``verify_pex`` does: interpreter mode on the same
launcher, ``PYSPARK_PYTHON`` = the job PEX, pyspark from ``$SPARK_HOME/python/lib`` -- with the gateway variables set,
one job at a time. Each job gets its own SparkContext (the launcher stops it; this process stops any it left) and its
own Python workers (keyed by the PEX), so jobs never share Python code; what they share is the JVM.

Trade-off, stated in each record (``mode`` = ``"shared-jvm"``): JVM-level state a job leaves behind (static fields,
loaded classes) is visible to the next job; the Python side is as isolated as under spark-submit. A job that needs a
JVM of its own can still be verified alone (one ``--job-pex``), which uses ``verify_pex``.
"""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from northstar_contracts.spark import SparkPexVerifyReport, SparkVerifyBatchReport
from northstar_spark.fixture import JobFixture
from northstar_spark.verify_pex import clean_env, inspect_pex, report_for, spark_conf_args, spark_home, stage_run

MODE = "shared-jvm"


@contextlib.contextmanager
def _environ(env: dict[str, str]) -> Iterator[None]:
    """``launch_gateway`` starts spark-submit with a copy of ``os.environ``: give it exactly ``env``."""
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


@contextlib.contextmanager
def shared_jvm(folder: Path, home: Path, java_home: str | None, cores: int) -> Iterator[Any]:
    """A Spark JVM with a py4j gateway (the py4j ``JavaGateway``); stopped, with every SparkContext, on exit."""
    from pyspark.java_gateway import launch_gateway

    (folder / "log4j2.properties").write_text(_log4j())
    env = clean_env()
    env.update({"SPARK_HOME": str(home), "SPARK_LOCAL_IP": "127.0.0.1", "SPARK_CONF_DIR": str(folder),
                "PYSPARK_SUBMIT_ARGS": shlex.join([*spark_conf_args(folder, cores), "pyspark-shell"])})
    if java_home:
        env["JAVA_HOME"] = java_home
    with _environ(env):
        gateway = launch_gateway()
    try:
        yield gateway
    finally:
        with contextlib.suppress(Exception):
            _stop_active_context(gateway)
        proc = getattr(gateway, "proc", None)
        with contextlib.suppress(Exception):
            gateway.shutdown()
        if proc is not None:
            with contextlib.suppress(Exception):
                proc.stdin.close()  # the JVM exits when its driver's pipe closes
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()


def _log4j() -> str:
    from northstar_spark.verify_pex import LOG4J2

    return LOG4J2


def _stop_active_context(gateway: Any) -> None:
    active = gateway.jvm.org.apache.spark.SparkContext.getActive()
    if active.isDefined():
        active.get().stop()


def run_job_pexes(pairs: Sequence[tuple[str, Path]], jobs: dict[str, JobFixture], timeout_s: float = 600.0,
                  cores: int = 2) -> SparkVerifyBatchReport:
    """Verify each ``(job, pex)`` on its fixture against one shared JVM; one record per job, in the given order.

    Every PEX is checked (usage errors, exit 2) before the JVM starts. ``timeout_s`` bounds each job.
    """
    from northstar_spark.local import ensure_java_home

    started = time.monotonic()
    checked = [inspect_pex(job, pex, jobs) for job, pex in pairs]
    home = spark_home()
    java_home = ensure_java_home()
    reports: list[SparkPexVerifyReport] = []
    with tempfile.TemporaryDirectory(prefix="verify-batch-") as tmp, \
            shared_jvm(Path(tmp), home, java_home, cores) as gateway:
        port, secret = gateway.gateway_parameters.port, gateway.gateway_parameters.auth_token
        for i, job in enumerate(checked):
            job_started = time.monotonic()
            folder = Path(tmp) / f"{i:03d}-{job.job}"
            folder.mkdir()
            runnable, ran_copy = stage_run(folder, job, jobs[job.job])
            result_file = folder / "result.json"
            env = clean_env()
            lib = home / "python" / "lib"
            env.update({
                "SPARK_HOME": str(home),
                "PYTHONPATH": os.pathsep.join(str(p) for p in sorted(lib.glob("*.zip"))),  # as spark-submit sets it
                "PYSPARK_GATEWAY_PORT": str(port),
                "PYSPARK_GATEWAY_SECRET": secret,
                "PYSPARK_PYTHON": str(runnable),
                "PYSPARK_DRIVER_PYTHON": str(runnable),
                "PEX_INTERPRETER": "1",
                "NORTHSTAR_VERIFY_RESULT": str(result_file),
                "SPARK_LOCAL_IP": "127.0.0.1",
            })
            cmd = [str(runnable), str(folder / "launcher.py"), *jobs[job.job].argv(folder)]
            try:
                proc = subprocess.run(cmd, env=env, cwd=folder, capture_output=True, text=True, timeout=timeout_s)
                exit_code, out, err = proc.returncode, proc.stdout, proc.stderr
            except subprocess.TimeoutExpired as exc:
                exit_code, out = -1, ""
                err = (exc.stderr.decode(errors="replace") if isinstance(exc.stderr, bytes) else (exc.stderr or ""))
                err += f"\njob PEX timed out after {timeout_s:.0f}s"
            sys.stderr.write(out)
            sys.stderr.write(err)
            with contextlib.suppress(Exception):
                _stop_active_context(gateway)  # a job that died mid-run must not block the next one's context
            result = json.loads(result_file.read_text()) if result_file.exists() else {}
            reports.append(report_for(job, jobs[job.job], mode=MODE, home=home, java_home=java_home,
                                      ran_copy=ran_copy, exit_code=exit_code, result=result, stderr=err,
                                      started=job_started, spark_submit_exit_code=None))
    return SparkVerifyBatchReport(ok=all(r.ok for r in reports), mode=MODE, jobs=reports, jvm_starts=1,
                                  seconds=round(time.monotonic() - started, 3))
