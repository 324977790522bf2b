"""Export the posted general ledger, summarised per fiscal period and account, for the finance close (S3 export).

Inputs (bronze, Parquet by default): ``gl_journal_entries``, ``gl_journal_lines``, ``gl_accounts`` (finance_erp).
Output: one row per (fiscal_period, account, currency) of *posted* entries: debit and credit totals, net
(debit - credit) and the number of lines. ``--fiscal-period`` restricts the export to one period.

Why the balance check: a journal entry whose debits and credits differ is a broken posting; exporting it would make
the trial balance the controllers reconcile against wrong without anyone noticing. The job refuses the export
(exit 1, nothing written) and names the unbalanced entries. Entries in draft or reversed status are not exported.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping, Sequence

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import DecimalType, LongType, StringType, StructField, StructType

from northstar_spark import batch
from northstar_spark.common import source_schema

JOB_NAME = "export_finance_ledger_s3"
KIND = "batch"
POSTED = "posted"
AMOUNT = DecimalType(18, 2)
INPUT_FORMAT = "parquet"  # default of --input-format
INPUT_SCHEMAS = {
    name: source_schema("finance_erp", name) for name in ("gl_journal_entries", "gl_journal_lines", "gl_accounts")
}
OUTPUT_SCHEMA = StructType(
    [
        StructField("fiscal_period", StringType()),
        StructField("account_code", StringType()),
        StructField("account_name", StringType()),
        StructField("account_type", StringType()),
        StructField("currency_code", StringType()),
        StructField("debit_total", AMOUNT),
        StructField("credit_total", AMOUNT),
        StructField("net_amount", AMOUNT),
        StructField("line_count", LongType()),
    ]
)


def unbalanced_entries(lines: DataFrame, limit: int = 5) -> list[str]:
    """Journal entries whose debit and credit totals differ (per currency), up to ``limit`` for the message."""
    totals = lines.groupBy("journal_entry_id", "currency_code").agg(
        F.sum(F.coalesce("debit", F.lit(0))).alias("debit"), F.sum(F.coalesce("credit", F.lit(0))).alias("credit")
    )
    bad = totals.where(F.col("debit") != F.col("credit")).orderBy("journal_entry_id").limit(limit).collect()
    return [f"{r['journal_entry_id']} ({r['currency_code']}: debit {r['debit']} != credit {r['credit']})" for r in bad]


def transform(
    entries: DataFrame, lines: DataFrame, accounts: DataFrame, fiscal_period: str | None = None
) -> DataFrame:
    posted = entries.where(F.col("entry_status") == POSTED)
    if fiscal_period:
        posted = posted.where(F.col("fiscal_period") == fiscal_period)
    posted_lines = lines.join(posted.select("journal_entry_id", "fiscal_period"), "journal_entry_id")
    unbalanced = unbalanced_entries(posted_lines)
    if unbalanced:
        raise batch.JobDataError(f"unbalanced posted journal entries: {'; '.join(unbalanced)}")
    debit, credit = F.sum(F.coalesce("debit", F.lit(0))), F.sum(F.coalesce("credit", F.lit(0)))
    return (
        posted_lines.join(accounts, "account_id", "left")
        .groupBy("fiscal_period", "account_code", "account_name", "account_type", "currency_code")
        .agg(
            debit.cast(AMOUNT).alias("debit_total"),
            credit.cast(AMOUNT).alias("credit_total"),
            (debit - credit).cast(AMOUNT).alias("net_amount"),
            F.count(F.lit(1)).cast(LongType()).alias("line_count"),
        )
        .orderBy("fiscal_period", "account_code", "currency_code")
    )


def main(argv: Sequence[str] | None = None, spark: SparkSession | None = None) -> int:
    p = batch.parser(JOB_NAME, __doc__, default_format=INPUT_FORMAT)
    p.add_argument("--fiscal-period", help="export only this period (e.g. 2024-03)")

    def compute(frames: Mapping[str, DataFrame], args: argparse.Namespace) -> DataFrame:
        return transform(frames["gl_journal_entries"], frames["gl_journal_lines"], frames["gl_accounts"], args.fiscal_period)

    return batch.run(p, argv, spark, lambda _args: INPUT_SCHEMAS, compute)


if __name__ == "__main__":
    raise SystemExit(main())
