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


TEST_SQL_CONF = {"spark.sql.codegen.wholeStage": "false", "spark.sql.shuffle.partitions": "1"}


@pytest.fixture(scope="session")
def spark() -> Iterator[SparkSession]:
    session = local_session("northstar-spark-tests", cores=2)
    # Test data is a handful of rows: compiling generated code (whole-stage and expression codegen) and spreading
    # tiny shuffles over several tasks cost far more than they save; interpreted, single-partition plans are faster.
    for key, value in TEST_SQL_CONF.items():
        session.conf.set(key, value)
    yield session
    session.stop()
