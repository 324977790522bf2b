"""Local-mode Spark plumbing shared by tests and ``verify``.

Why: a local SparkSession only works reliably here if (1) JAVA_HOME points at a JDK (derived from the
``java`` on PATH when unset, never hard-coded), (2) Python workers run the *same* interpreter as the driver
(otherwise PySpark fails with PYTHON_VERSION_MISMATCH, e.g. under Pants whose own Python differs), and
(3) nothing binds the UI port or resolves the machine's hostname.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from pyspark.sql import SparkSession


def ensure_java_home() -> str | None:
    """Set JAVA_HOME from ``java`` on PATH if unset; returns the value in effect (None if no java found)."""
    if os.environ.get("JAVA_HOME"):
        return os.environ["JAVA_HOME"]
    java = shutil.which("java")
    if java is None:
        return None
    # <JAVA_HOME>/bin/java, with /usr/bin/java usually a symlink chain into the JDK.
    java_home = str(Path(java).resolve().parent.parent)
    os.environ["JAVA_HOME"] = java_home
    return java_home


def ensure_worker_python() -> None:
    """Pin driver and worker Python to this interpreter unless the caller chose otherwise."""
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)


def local_session(app_name: str = "northstar-local", cores: int = 2) -> SparkSession:
    """A small, quiet, deterministic local session (UTC, 2 shuffle partitions, no UI)."""
    ensure_java_home()
    ensure_worker_python()
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    spark = (
        SparkSession.builder.master(f"local[{cores}]")
        .appName(app_name)
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    return spark
