"""Product affinity ("bought together"): support, confidence and lift for product pairs from order lines.

Input (bronze, Parquet by default): ``order_lines`` (retail_oltp). Output: one row per ordered pair
(product -> related product) seen together in at least ``--min-co-orders`` orders.
support = co-orders / all orders; confidence = co-orders / orders containing the product;
lift = confidence / (orders containing the related product / all orders).

Why pairs in both directions: confidence is asymmetric (batteries -> torch differs from torch -> batteries), and
the recommendation service looks pairs up by the product on the page. A minimum co-order count keeps one-off
baskets from producing lift-inflated noise.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping, Sequence

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import DoubleType, LongType, StructField, StructType

from northstar_spark import batch
from northstar_spark.common import source_schema

JOB_NAME = "product_affinity"
KIND = "batch"
INPUT_FORMAT = "parquet"  # default of --input-format
INPUT_SCHEMAS = {"order_lines": source_schema("retail_oltp", "order_lines")}
OUTPUT_SCHEMA = StructType(
    [
        StructField("product_id", LongType()),
        StructField("related_product_id", LongType()),
        StructField("co_order_count", LongType()),
        StructField("support", DoubleType()),
        StructField("confidence", DoubleType()),
        StructField("lift", DoubleType()),
    ]
)


def transform(order_lines: DataFrame, min_co_orders: int = 2) -> DataFrame:
    baskets = order_lines.where(F.col("order_id").isNotNull() & F.col("product_id").isNotNull()).select("order_id", "product_id").distinct()
    total_orders = baskets.select(F.countDistinct("order_id").alias("total_orders"))
    product_orders = baskets.groupBy("product_id").agg(F.count(F.lit(1)).alias("product_orders"))
    a, b = baskets.alias("a"), baskets.alias("b")
    pairs = (
        a.join(b, (F.col("a.order_id") == F.col("b.order_id")) & (F.col("a.product_id") != F.col("b.product_id")))
        .groupBy(F.col("a.product_id").alias("product_id"), F.col("b.product_id").alias("related_product_id"))
        .agg(F.count(F.lit(1)).alias("co_order_count"))
        .where(F.col("co_order_count") >= min_co_orders)
    )
    related_orders = product_orders.select(F.col("product_id").alias("related_product_id"), F.col("product_orders").alias("related_orders"))
    scored = pairs.join(product_orders, "product_id").join(related_orders, "related_product_id").crossJoin(total_orders)
    support = F.col("co_order_count") / F.col("total_orders")
    confidence = F.col("co_order_count") / F.col("product_orders")
    return (
        scored.select(
            F.col("product_id").cast(LongType()),
            F.col("related_product_id").cast(LongType()),
            F.col("co_order_count").cast(LongType()),
            support.cast(DoubleType()).alias("support"),
            confidence.cast(DoubleType()).alias("confidence"),
            (confidence / (F.col("related_orders") / F.col("total_orders"))).cast(DoubleType()).alias("lift"),
        )
        .orderBy("product_id", "related_product_id")
    )


def main(argv: Sequence[str] | None = None, spark: SparkSession | None = None) -> int:
    p = batch.parser(JOB_NAME, __doc__, default_format=INPUT_FORMAT)
    p.add_argument("--min-co-orders", type=int, default=2, help="minimum orders a pair must share")

    def compute(frames: Mapping[str, DataFrame], args: argparse.Namespace) -> DataFrame:
        return transform(frames["order_lines"], args.min_co_orders)

    return batch.run(p, argv, spark, lambda _args: INPUT_SCHEMAS, compute)


if __name__ == "__main__":
    raise SystemExit(main())
