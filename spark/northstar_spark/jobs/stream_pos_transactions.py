"""Point-of-sale transactions from store registers (topic pos.transactions.v1) into bronze.kafka__pos_transactions.

Why streaming: store managers watch intraday sales; registers buffer offline and replay when the link returns, so
a ``transaction_id`` can be re-sent hours later -- the dedup watermark (default 1 hour, --watermark) bounds how
long keys are remembered. Locally a file source stands in for Kafka (see streaming.py and spark/README.md).
"""

from __future__ import annotations

from collections.abc import Sequence

from pyspark.sql import SparkSession

from northstar_spark import streaming
from northstar_spark.common import bronze_schema

JOB_NAME = "stream_pos_transactions"
KIND = "streaming"
SYSTEM, TABLE = "kafka", "pos_transactions"
EVENT_TIME = "transacted_at"
INPUT_SCHEMAS = {"records": streaming.record_schema(SYSTEM, TABLE)}
OUTPUT_SCHEMA = bronze_schema(SYSTEM, TABLE)


def main(argv: Sequence[str] | None = None, spark: SparkSession | None = None) -> int:
    return streaming.run(SYSTEM, TABLE, EVENT_TIME, __doc__, argv, spark, JOB_NAME)


if __name__ == "__main__":
    raise SystemExit(main())
