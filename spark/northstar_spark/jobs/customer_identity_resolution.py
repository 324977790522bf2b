"""Resolve customer identities: accounts sharing an email are one person; web sessions are stitched to them.

Inputs (bronze, Parquet by default): ``customers`` (retail_oltp) and ``clickstream`` (kafka). Output: one row per
customer account with its ``identity_id`` (the smallest customer_id sharing the account's email hash -- stable as
long as the oldest account exists), and identity-level web activity.

Why: marketing audiences, lifetime value and fraud rules must count a person once, not once per duplicate account
(guest checkouts create new accounts with the same email). A session belongs to the customer who first logged in
during it, so the anonymous page views before login are attributed too (session stitching).
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping, Sequence

from pyspark.sql import DataFrame, SparkSession, Window
from pyspark.sql import functions as F
from pyspark.sql.types import IntegerType, LongType, StringType, StructField, StructType, TimestampType

from northstar_spark import batch
from northstar_spark.common import dedup_latest, source_schema

JOB_NAME = "customer_identity_resolution"
KIND = "batch"
INPUT_FORMAT = "parquet"  # default of --input-format
INPUT_SCHEMAS = {
    "customers": source_schema("retail_oltp", "customers"),
    "clickstream": source_schema("kafka", "clickstream"),
}
OUTPUT_SCHEMA = StructType(
    [
        StructField("customer_id", LongType()),
        StructField("identity_id", LongType()),
        StructField("email_hash", StringType()),
        StructField("linked_accounts", IntegerType()),
        StructField("session_count", LongType()),
        StructField("first_seen_at", TimestampType()),
        StructField("last_seen_at", TimestampType()),
    ]
)


def transform(customers: DataFrame, clickstream: DataFrame) -> DataFrame:
    current = dedup_latest(customers.where(F.col("customer_id").isNotNull()), ["customer_id"], ["updated_at"])
    by_email = Window.partitionBy(F.coalesce(F.col("email_hash"), F.col("customer_id").cast("string")))
    accounts = current.select(
        "customer_id",
        "email_hash",
        F.min("customer_id").over(by_email).alias("identity_id"),
        F.count(F.lit(1)).over(by_email).cast(IntegerType()).alias("linked_accounts"),
    )
    # Owner of a session = the first customer_id seen in it (by event time, then event id for determinism).
    logged_in = clickstream.where(F.col("customer_id").isNotNull() & F.col("session_id").isNotNull())
    first_login = Window.partitionBy("session_id").orderBy("event_at", "event_id")
    owners = (
        logged_in.withColumn("_n", F.row_number().over(first_login))
        .where("_n = 1")
        .select("session_id", F.col("customer_id").alias("owner_id"))
    )
    sessions = (
        clickstream.join(owners, "session_id")
        .groupBy("session_id", "owner_id")
        .agg(F.min("event_at").alias("first_at"), F.max("event_at").alias("last_at"))
    )
    identity_activity = (
        sessions.join(accounts.select(F.col("customer_id").alias("owner_id"), "identity_id"), "owner_id")
        .groupBy("identity_id")
        .agg(
            F.countDistinct("session_id").alias("session_count"),
            F.min("first_at").alias("first_seen_at"),
            F.max("last_at").alias("last_seen_at"),
        )
    )
    return (
        accounts.join(identity_activity, "identity_id", "left")
        .select(
            "customer_id",
            "identity_id",
            "email_hash",
            "linked_accounts",
            F.coalesce(F.col("session_count"), F.lit(0)).cast(LongType()).alias("session_count"),
            "first_seen_at",
            "last_seen_at",
        )
        .orderBy("customer_id")
    )


def main(argv: Sequence[str] | None = None, spark: SparkSession | None = None) -> int:
    p = batch.parser(JOB_NAME, __doc__, default_format=INPUT_FORMAT)

    def compute(frames: Mapping[str, DataFrame], args: argparse.Namespace) -> DataFrame:
        return transform(frames["customers"], frames["clickstream"])

    return batch.run(p, argv, spark, lambda _args: INPUT_SCHEMAS, compute)


if __name__ == "__main__":
    raise SystemExit(main())
