"""Session-scoped local Spark for the job tests.

Why the environment is fixed up first: PySpark workers must use this interpreter (PYSPARK_PYTHON /
PYSPARK_DRIVER_PYTHON = sys.executable; under Pants the default Python differs -> PYTHON_VERSION_MISMATCH),
and JAVA_HOME is derived from the ``java`` on PATH when the runner did not pass it.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator

os.environ["PYSPARK_PYTHON"] = sys.executable
os.environ["PYSPARK_DRIVER_PYTHON"] = sys.executable

import pytest  # noqa: E402
from pyspark.sql import SparkSession  # noqa: E402

from northstar_spark.local import ensure_java_home, local_session  # noqa: E402

ensure_java_home()


@pytest.fixture(scope="session")
def spark() -> Iterator[SparkSession]:
    session = local_session("northstar-spark-tests", cores=2)
    yield session
    session.stop()
