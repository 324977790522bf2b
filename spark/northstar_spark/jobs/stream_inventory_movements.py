"""Warehouse stock movements (topic inventory.movements.v1) into bronze.kafka__inventory_movements.

Why streaming: available-to-promise stock on the web shop is on-hand minus movements since the last snapshot, so
movements must land within minutes; inventory_reconciliation later checks them against the daily snapshots.
Locally a file source stands in for Kafka (see streaming.py and spark/README.md).
"""

from __future__ import annotations

from collections.abc import Sequence

from pyspark.sql import SparkSession

from northstar_spark import streaming
from northstar_spark.common import bronze_schema

JOB_NAME = "stream_inventory_movements"
KIND = "streaming"
SYSTEM, TABLE = "kafka", "inventory_movements"
EVENT_TIME = "moved_at"
INPUT_SCHEMAS = {"records": streaming.record_schema(SYSTEM, TABLE)}
OUTPUT_SCHEMA = bronze_schema(SYSTEM, TABLE)


def main(argv: Sequence[str] | None = None, spark: SparkSession | None = None) -> int:
    return streaming.run(SYSTEM, TABLE, EVENT_TIME, __doc__, argv, spark, JOB_NAME)


if __name__ == "__main__":
    raise SystemExit(main())
