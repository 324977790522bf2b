"""Streaming jobs: each landed file is processed exactly once across restarts (checkpoint), re-sent events once."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

from pyspark.sql import SparkSession

from northstar_spark import common
from northstar_spark.jobs import stream_payment_events, stream_pos_transactions
from northstar_spark.tests import synthetic

T0 = dt.datetime(2024, 3, 1, 12, 0)


def _payment(event_id: str, minutes: int) -> tuple[object, ...]:
    return (event_id, 1, 1, "captured", "card", Decimal("25.00"), "USD", T0 + dt.timedelta(minutes=minutes))


def test_payment_stream_exactly_once_across_restarts(spark: SparkSession, tmp_path: Path) -> None:
    schema = common.source_schema("kafka", "payment_events")
    topic = "payments.payment_events.v1"
    landing, output, checkpoint = tmp_path / "landing", tmp_path / "bronze", tmp_path / "chk"
    argv = ["--input", str(landing), "--output", str(output), "--checkpoint", str(checkpoint)]

    synthetic.land(landing, "f1.json", synthetic.kafka_records(topic, schema, [_payment("e1", 0), _payment("e2", 1)], 0))
    assert stream_payment_events.main(argv, spark=spark) == 0
    # Restart: one new file, which re-delivers e2 (a webhook retry at a new offset) and adds e3.
    synthetic.land(landing, "f2.json", synthetic.kafka_records(topic, schema, [_payment("e2", 1), _payment("e3", 2)], 2))
    assert stream_payment_events.main(argv, spark=spark) == 0
    # Restart with nothing new: no output change.
    assert stream_payment_events.main(argv, spark=spark) == 0

    # A plain JSON-lines export of events (no Kafka envelope, as the synthetic generator lands them) is accepted too.
    flat = [dict(zip(schema.names, _payment("e4", 3), strict=True))]
    synthetic.land(landing, "f3.jsonl", flat)
    assert stream_payment_events.main(argv, spark=spark) == 0

    rows = spark.read.parquet(str(output)).collect()
    assert sorted((r["event_id"], r[common.KAFKA_OFFSET]) for r in rows) == [("e1", 0), ("e2", 1), ("e3", 3), ("e4", None)]


def test_kafka_source_without_connector_fails_clearly(spark: SparkSession, tmp_path: Path, capsys: object) -> None:
    avro = tmp_path / "pos.avsc"
    avro.write_text('{"type": "record", "name": "PosTransaction", "fields": []}')
    argv = ["--source", "kafka", "--bootstrap-servers", "localhost:9092", "--avro-schema", str(avro),
            "--output", str(tmp_path / "o"), "--checkpoint", str(tmp_path / "c")]
    assert stream_pos_transactions.main(argv, spark=spark) == 2
    err = capsys.readouterr().err  # type: ignore[attr-defined]
    assert "kafka" in err.lower() and "--packages org.apache.spark:spark-sql-kafka-0-10" in err
    assert not (tmp_path / "o").exists()
