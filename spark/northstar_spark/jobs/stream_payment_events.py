"""Payment authorisation/capture/refund events (topic payments.payment_events.v1) into bronze.kafka__payment_events.

Why streaming: finance monitors captures against orders within minutes (fraud, failed captures). A payment
provider webhook delivered twice must not double a capture in bronze, so events are deduplicated on ``event_id``.
Locally a file source stands in for Kafka (see streaming.py and spark/README.md).
"""

from __future__ import annotations

from collections.abc import Sequence

from pyspark.sql import SparkSession

from northstar_spark import streaming
from northstar_spark.common import bronze_schema

JOB_NAME = "stream_payment_events"
KIND = "streaming"
SYSTEM, TABLE = "kafka", "payment_events"
EVENT_TIME = "event_at"
INPUT_SCHEMAS = {"records": streaming.record_schema(SYSTEM, TABLE)}
OUTPUT_SCHEMA = bronze_schema(SYSTEM, TABLE)


def main(argv: Sequence[str] | None = None, spark: SparkSession | None = None) -> int:
    return streaming.run(SYSTEM, TABLE, EVENT_TIME, __doc__, argv, spark, JOB_NAME)


if __name__ == "__main__":
    raise SystemExit(main())
