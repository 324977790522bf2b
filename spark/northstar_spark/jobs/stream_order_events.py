"""Order lifecycle events (topic orders.order_events.v1) into bronze.kafka__order_events, continuously.

Why streaming: order status drives customer notifications and the sales dashboard (freshness < 3 min). Order
services retry on timeouts, so the same ``event_id`` can arrive twice; it is written once. Locally a file source
stands in for Kafka (see streaming.py and spark/README.md).
"""

from __future__ import annotations

from collections.abc import Sequence

from pyspark.sql import SparkSession

from northstar_spark import streaming
from northstar_spark.common import bronze_schema

JOB_NAME = "stream_order_events"
KIND = "streaming"
SYSTEM, TABLE = "kafka", "order_events"
EVENT_TIME = "event_at"
INPUT_SCHEMAS = {"records": streaming.record_schema(SYSTEM, TABLE)}
OUTPUT_SCHEMA = bronze_schema(SYSTEM, TABLE)


def main(argv: Sequence[str] | None = None, spark: SparkSession | None = None) -> int:
    return streaming.run(SYSTEM, TABLE, EVENT_TIME, __doc__, argv, spark, JOB_NAME)


if __name__ == "__main__":
    raise SystemExit(main())
