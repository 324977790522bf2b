"""Structured Streaming skeleton shared by the Kafka -> bronze jobs.

Production reads the topic with Spark's Kafka source and decodes Confluent-framed Avro values. Here the Kafka and
Avro connector jars (spark-sql-kafka-0-10, spark-avro) cannot be fetched, so locally -- and in every test -- a *file
source* stands in: a landing folder of JSON-lines files, one Kafka record per line in the shape the Kafka source
yields (``topic, partition, offset, timestamp, key, value``) with ``value`` already decoded. Everything after the
source (lineage columns, dedup on the event key within the watermark, the exactly-once Parquet file sink with its
checkpoint) is the same code on both paths.

Exactly once: the file source records which files it has read in the checkpoint, the file sink commits each batch
in ``<output>/_spark_metadata``; a restart with the same checkpoint neither re-reads a file nor duplicates output.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from pyspark.errors import AnalysisException
from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import IntegerType, LongType, StringType, StructField, StructType, TimestampType

from northstar_spark.batch import session
from northstar_spark.common import (
    INGESTED_AT,
    KAFKA_OFFSET,
    KAFKA_PARTITION,
    bronze_schema,
    conform,
    primary_key,
    source_schema,
    table_spec,
)

KAFKA_PACKAGE = "org.apache.spark:spark-sql-kafka-0-10_2.12:3.5.1"
AVRO_PACKAGE = "org.apache.spark:spark-avro_2.12:3.5.1"


def record_schema(system: str, table: str) -> StructType:
    """A Kafka record as the local stand-in files carry it: the Kafka source's columns, ``value`` decoded.

    The event's own columns are also accepted at the top level (a plain JSON-lines export of events, as the synthetic
    data generator lands them); such records have no partition/offset lineage.
    """
    return StructType(
        [
            StructField("topic", StringType()),
            StructField("partition", IntegerType()),
            StructField("offset", LongType()),
            StructField("timestamp", TimestampType()),
            StructField("key", StringType()),
            StructField("value", source_schema(system, table)),
            *source_schema(system, table).fields,
        ]
    )


def file_records(spark: SparkSession, landing: str, system: str, table: str, max_files: int | None) -> DataFrame:
    """Stand-in for Kafka: new JSON-lines files in ``landing`` are new records (each file read exactly once)."""
    reader = spark.readStream.schema(record_schema(system, table))
    if max_files:
        reader = reader.option("maxFilesPerTrigger", max_files)
    return reader.json(landing)


def kafka_records(spark: SparkSession, bootstrap: str, system: str, table: str, avro_schema: str) -> DataFrame:
    """Production source: the topic from the contract, Avro values behind Confluent's 5-byte header.

    Not executable on this machine (no connector jars); submit with ``--packages`` KAFKA_PACKAGE,AVRO_PACKAGE.
    """
    from pyspark.sql.avro.functions import from_avro

    raw = (
        spark.readStream.format("kafka")
        .option("kafka.bootstrap.servers", bootstrap)
        .option("subscribe", table_spec(system, table)["topic"])
        .option("startingOffsets", "earliest")
        .option("failOnDataLoss", "true")
        .load()
    )
    payload = F.expr("substring(value, 6, length(value) - 5)")
    return raw.select(
        "topic", "partition", "offset", "timestamp", F.col("key").cast("string").alias("key"),
        from_avro(payload, avro_schema).alias("value"),
    )


def to_bronze_stream(records: DataFrame, system: str, table: str, event_time: str, watermark: str) -> DataFrame:
    """Flatten records into the bronze shape; drop unparseable records and re-deliveries of the same event key.

    Why ``dropDuplicatesWithinWatermark``: producers retry, so one event can arrive twice (different offsets); the
    key is remembered in the checkpointed state for ``watermark`` of event time, then evicted (bounded state).
    """
    keys = primary_key(system, table)
    columns = source_schema(system, table).names
    if "value" in records.columns and all(c in records.columns for c in columns):  # file stand-in: either shape
        event_cols = [F.when(F.col("value").isNotNull(), F.col(f"value.{c}")).otherwise(F.col(c)).alias(c) for c in columns]
    else:
        event_cols = [F.col(f"value.{c}").alias(c) for c in columns]
    events = records.select(
        *event_cols, F.col("partition").alias(KAFKA_PARTITION), F.col("offset").alias(KAFKA_OFFSET)
    )
    valid: Column = F.col(event_time).isNotNull()
    for key in keys:
        valid = valid & F.col(key).isNotNull()
    deduped = events.where(valid).withWatermark(event_time, watermark).dropDuplicatesWithinWatermark(keys)
    return conform(deduped.withColumn(INGESTED_AT, F.current_timestamp()), bronze_schema(system, table))


def parser(job_name: str, doc: str | None) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=job_name, description=doc.strip().splitlines()[0] if doc else None)
    p.add_argument("--input", help="landing folder of JSON-lines Kafka records (file source, the local stand-in)")
    p.add_argument("--output", required=True, help="bronze Parquet path (file sink, append)")
    p.add_argument("--checkpoint", required=True, help="checkpoint folder: remembers read files/offsets and dedup state")
    p.add_argument("--source", choices=("file", "kafka"), default="file")
    p.add_argument("--bootstrap-servers", help="Kafka bootstrap servers (--source kafka)")
    p.add_argument("--avro-schema", help="Avro schema file of the topic's value (--source kafka)")
    p.add_argument("--trigger", choices=("available-now", "interval"), default="available-now",
                   help="available-now: process what is there, then stop; interval: run continuously")
    p.add_argument("--interval", default="30 seconds", help="micro-batch interval for --trigger interval")
    p.add_argument("--max-files-per-trigger", type=int, default=None)
    p.add_argument("--watermark", default="1 hour", help="how long an event key is remembered for dedup")
    return p


def run(
    system: str, table: str, event_time: str, doc: str | None, argv: Sequence[str] | None, spark: SparkSession | None,
    job_name: str,
) -> int:
    """Build the stream for one topic and run it to completion (available-now) or forever (interval)."""
    p = parser(job_name, doc)
    args = p.parse_args(argv)
    active = session(spark, job_name)
    try:
        if args.source == "kafka":
            if not args.bootstrap_servers or not args.avro_schema:
                raise ValueError("--source kafka needs --bootstrap-servers and --avro-schema")
            with open(args.avro_schema) as fh:
                records = kafka_records(active, args.bootstrap_servers, system, table, fh.read())
        else:
            if not args.input:
                raise ValueError("--source file needs --input (the landing folder)")
            records = file_records(active, args.input, system, table, args.max_files_per_trigger)
        bronze = to_bronze_stream(records, system, table, event_time, args.watermark)
    except AnalysisException as exc:
        print(f"{job_name}: error: {exc.getMessage() if hasattr(exc, 'getMessage') else exc}; the Kafka source needs "
              f"--packages {KAFKA_PACKAGE},{AVRO_PACKAGE}", file=sys.stderr)
        return 2
    except (ValueError, OSError) as exc:
        print(f"{job_name}: error: {exc}", file=sys.stderr)
        return 2
    writer = (
        bronze.writeStream.format("parquet")
        .queryName(job_name)
        .option("path", args.output)
        .option("checkpointLocation", args.checkpoint)
        .outputMode("append")
    )
    writer = writer.trigger(availableNow=True) if args.trigger == "available-now" else writer.trigger(
        processingTime=args.interval)
    query = writer.start()
    query.awaitTermination()
    return 0 if query.exception() is None else 1
