"""Reconcile daily inventory snapshots with the stock movements between them; flag discrepancies.

Inputs (bronze, Parquet by default): ``inventory_snapshots`` (retail_oltp) and ``inventory_movements`` (kafka).
For each (warehouse, product) and each snapshot after the first: expected = previous on-hand + net movements on the
days after the previous snapshot up to and including this one; variance = actual - expected.

Why: shrinkage (theft, damage, mis-scans) shows up only as a gap between what the movements say and what is
counted; a reconciliation that silently ignored an unknown movement type would hide exactly those gaps, so an
unknown type refuses the run (exit 1) and names the type.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping, Sequence

from pyspark.sql import DataFrame, SparkSession, Window
from pyspark.sql import functions as F
from pyspark.sql.types import BooleanType, DateType, IntegerType, LongType, StructField, StructType

from northstar_spark import batch
from northstar_spark.common import source_schema

JOB_NAME = "inventory_reconciliation"
KIND = "batch"
# Producers differ in sign conventions (the WMS sends sale_pick with a negative quantity), so direction comes from the
# movement type: inbound counts +|quantity|, outbound -|quantity|.
INBOUND = ("receipt", "po_receipt", "customer_return", "transfer_in")
OUTBOUND = ("sale", "sale_pick", "shipment", "transfer_out", "write_off")
SIGNED = ("adjustment",)  # quantity already carries its sign
INPUT_FORMAT = "parquet"  # default of --input-format
INPUT_SCHEMAS = {
    "inventory_snapshots": source_schema("retail_oltp", "inventory_snapshots"),
    "inventory_movements": source_schema("kafka", "inventory_movements"),
}
OUTPUT_SCHEMA = StructType(
    [
        StructField("snapshot_date", DateType()),
        StructField("warehouse_id", IntegerType()),
        StructField("product_id", LongType()),
        StructField("previous_snapshot_date", DateType()),
        StructField("opening_qty", IntegerType()),
        StructField("net_movement_qty", LongType()),
        StructField("expected_qty", LongType()),
        StructField("actual_qty", IntegerType()),
        StructField("variance", LongType()),
        StructField("is_discrepancy", BooleanType()),
    ]
)


def signed_quantity() -> F.Column:
    return (
        F.when(F.col("movement_type").isin(*INBOUND), F.abs(F.col("quantity")))
        .when(F.col("movement_type").isin(*OUTBOUND), -F.abs(F.col("quantity")))
        .otherwise(F.col("quantity"))
    )


def transform(snapshots: DataFrame, movements: DataFrame, tolerance: int = 0) -> DataFrame:
    known = (*INBOUND, *OUTBOUND, *SIGNED)
    unknown = [r[0] for r in movements.where(~F.col("movement_type").isin(*known)).select("movement_type").distinct().limit(5).collect()]
    if unknown:
        raise batch.JobDataError(f"unknown movement_type {sorted(map(str, unknown))}; known: {list(known)}")
    keys = ["warehouse_id", "product_id"]
    ordered = Window.partitionBy(*keys).orderBy("snapshot_date")
    periods = snapshots.select(
        *keys,
        "snapshot_date",
        F.lag("snapshot_date").over(ordered).alias("previous_snapshot_date"),
        F.lag("on_hand_qty").over(ordered).alias("opening_qty"),
        F.col("on_hand_qty").alias("actual_qty"),
    ).where(F.col("previous_snapshot_date").isNotNull())
    daily = movements.groupBy(*keys, F.to_date("moved_at").alias("moved_on")).agg(
        F.sum(signed_quantity()).cast(LongType()).alias("qty")
    )
    in_period = (
        (daily["warehouse_id"] == periods["warehouse_id"])
        & (daily["product_id"] == periods["product_id"])
        & (daily["moved_on"] > periods["previous_snapshot_date"])
        & (daily["moved_on"] <= periods["snapshot_date"])
    )
    net = (
        periods.join(daily, in_period, "left")
        .groupBy(periods["warehouse_id"], periods["product_id"], "snapshot_date", "previous_snapshot_date", "opening_qty", "actual_qty")
        .agg(F.coalesce(F.sum("qty"), F.lit(0)).cast(LongType()).alias("net_movement_qty"))
    )
    expected = (F.col("opening_qty") + F.col("net_movement_qty")).cast(LongType())
    return (
        net.withColumn("expected_qty", expected)
        .withColumn("variance", (F.col("actual_qty") - F.col("expected_qty")).cast(LongType()))
        .withColumn("is_discrepancy", F.abs(F.col("variance")) > F.lit(tolerance))
        .select(*OUTPUT_SCHEMA.names)
        .orderBy("snapshot_date", "warehouse_id", "product_id")
    )


def main(argv: Sequence[str] | None = None, spark: SparkSession | None = None) -> int:
    p = batch.parser(JOB_NAME, __doc__, default_format=INPUT_FORMAT)
    p.add_argument("--tolerance", type=int, default=0, help="absolute variance still considered reconciled")

    def compute(frames: Mapping[str, DataFrame], args: argparse.Namespace) -> DataFrame:
        return transform(frames["inventory_snapshots"], frames["inventory_movements"], args.tolerance)

    return batch.run(p, argv, spark, lambda _args: INPUT_SCHEMAS, compute)


if __name__ == "__main__":
    raise SystemExit(main())
