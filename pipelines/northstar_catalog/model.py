"""The catalog's data model: what a pipeline and a DAG entry may say, checked field by field by pydantic.

Rules that need only one entry live here (shape, kinds, SLA bounds, id syntax); rules that compare entries with each
other or with sources.yaml live in ``crosscheck``.
"""

from __future__ import annotations

import re
from enum import Enum
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

ID_PATTERN = r"^[a-z][a-z0-9_]*$"
TEAM_PATTERN = r"^[a-z][a-z0-9-]*$"
BATCH_SLA_MAX_MINUTES = 45  # platform promise: batch pipelines finish within 45 minutes of their schedule
STREAM_FRESHNESS_MAX_SECONDS = 180  # platform promise: streaming data is fresher than 3 minutes
CONTINUOUS = "continuous"
MANUAL = "manual"  # triggered by hand only (Airflow schedule=None), e.g. backfills
DATASETS = "datasets"  # data-aware: triggered by upstream Dataset updates (hand-written DAGs list them)
PRESETS = frozenset({"@hourly", "@daily", "@weekly", "@monthly", MANUAL, DATASETS})
_CRON_FIELD = re.compile(r"^(\*|\d+(-\d+)?)(/\d+)?(,(\*|\d+(-\d+)?)(/\d+)?)*$")
SPARK_JOBS = frozenset({
    "ingest_retail_oltp_cdc", "ingest_retail_oltp_snapshot", "ingest_finance_erp_snapshot", "ingest_inventory_snapshots",
    "ingest_supplier_catalog", "ingest_advance_shipping_notices", "ingest_marketing_campaigns", "ingest_marketing_spend",
    "ingest_exchange_rates", "ingest_store_footfall", "daily_revenue", "customer_identity_resolution",
    "inventory_reconciliation", "product_affinity", "export_finance_ledger_s3", "export_marketing_audiences",
    "stream_order_events", "stream_payment_events", "stream_pos_transactions", "stream_inventory_movements",
})
"""The Spark jobs that exist as ``spark/northstar_spark/jobs/<name>.py`` (20: 16 batch, 4 streaming)."""


class Kind(str, Enum):
    BATCH_INGEST = "batch_ingest"
    STREAMING_INGEST = "streaming_ingest"
    TRANSFORM = "transform"
    EXPORT = "export"


class Tag(str, Enum):
    FINANCE = "finance"
    PII = "pii"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Source(_Strict):
    """Exactly one of: a PostgreSQL table ``<system>.<table>``, a Kafka topic, an S3 prefix, or upstream pipelines."""

    postgres: str | None = None
    kafka: str | None = None
    s3: str | None = None
    upstream: tuple[str, ...] | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> Self:
        given = [k for k in ("postgres", "kafka", "s3", "upstream") if getattr(self, k)]
        if len(given) != 1:
            raise ValueError(f"source-kind: source needs exactly one of postgres, kafka, s3, upstream (got {given or 'none'})")
        return self

    @property
    def kind(self) -> str:
        return next(k for k in ("postgres", "kafka", "s3", "upstream") if getattr(self, k))

    def describe(self) -> str:
        return f"upstream: {', '.join(self.upstream)}" if self.upstream else f"{self.kind}: {getattr(self, self.kind)}"


class Sla(_Strict):
    """Batch pipelines promise minutes to completion; streaming pipelines promise data freshness in seconds."""

    batch_minutes: int | None = Field(default=None, gt=0, lt=BATCH_SLA_MAX_MINUTES)
    freshness_seconds: int | None = Field(default=None, gt=0, lt=STREAM_FRESHNESS_MAX_SECONDS)

    @model_validator(mode="after")
    def _exactly_one(self) -> Self:
        if (self.batch_minutes is None) == (self.freshness_seconds is None):
            raise ValueError("sla-kind: sla needs exactly one of batch_minutes, freshness_seconds")
        return self


class Runs(_Strict):
    """What executes the pipeline: always an Airflow DAG, plus a Spark job and/or a dbt selector (run by SQLMesh)."""

    dag: str = Field(pattern=ID_PATTERN)
    spark_job: str | None = None
    dbt_selector: str | None = None

    @field_validator("spark_job")
    @classmethod
    def _known_job(cls, value: str | None) -> str | None:
        if value is not None and value not in SPARK_JOBS:
            raise ValueError(f"unknown-spark-job: '{value}' is not one of the Spark jobs ({', '.join(sorted(SPARK_JOBS))})")
        return value

    @model_validator(mode="after")
    def _something_runs(self) -> Self:
        if not (self.spark_job or self.dbt_selector):
            raise ValueError("runner: runs needs a spark_job or a dbt_selector besides the dag")
        return self


def check_schedule(value: str) -> str:
    if value in PRESETS or value == CONTINUOUS:
        return value
    fields = value.split()
    if len(fields) != 5 or not all(_CRON_FIELD.match(f) for f in fields):
        raise ValueError(f"schedule: '{value}' is not a 5-field cron expression, a preset ({', '.join(sorted(PRESETS))}) "
                         f"or '{CONTINUOUS}'")
    return value


class Pipeline(_Strict):
    id: str = Field(pattern=ID_PATTERN)
    kind: Kind
    description: str = Field(min_length=10)
    source: Source
    sink: str = Field(min_length=3)
    owner: str = Field(pattern=TEAM_PATTERN)
    schedule: str
    sla: Sla
    tags: tuple[Tag, ...] = ()
    runs: Runs

    _check_schedule = field_validator("schedule")(check_schedule)

    @model_validator(mode="after")
    def _kind_rules(self) -> Self:
        streaming = self.kind == Kind.STREAMING_INGEST
        if streaming != (self.schedule == CONTINUOUS):
            raise ValueError("streaming-schedule: streaming_ingest pipelines are scheduled 'continuous', and only they are")
        if streaming != (self.sla.freshness_seconds is not None):
            raise ValueError("sla-kind: streaming_ingest pipelines declare sla.freshness_seconds, batch kinds declare sla.batch_minutes")
        if self.kind in (Kind.BATCH_INGEST, Kind.STREAMING_INGEST):
            if self.source.upstream:
                raise ValueError("ingest-source: ingestion pipelines read a postgres table, a kafka topic or an s3 prefix, "
                                 "not upstream pipelines")
            if not self.runs.spark_job:
                raise ValueError("ingest-runner: ingestion pipelines are run by a spark_job")
            if not self.sink.startswith("bronze."):
                raise ValueError("ingest-sink: ingestion pipelines write a bronze.<system>__<name> table")
        if streaming and self.source.kafka is None:
            raise ValueError("stream-source: streaming_ingest pipelines read a kafka topic")
        if self.kind in (Kind.TRANSFORM, Kind.EXPORT) and not self.source.upstream:
            raise ValueError("upstream-source: transform and export pipelines read upstream pipelines")
        if self.kind == Kind.EXPORT and not self.sink.startswith("s3://"):
            raise ValueError("export-sink: export pipelines write an s3:// location")
        return self

    @property
    def tag_names(self) -> list[str]:
        return sorted(t.value for t in self.tags)


class CatalogFile(_Strict):
    """One ``pipelines/<domain>.yaml``: a domain and its pipelines (each validated on its own, see loader)."""

    domain: str = Field(pattern=ID_PATTERN)
    description: str = ""
    pipelines: tuple[dict[str, object], ...] = Field(min_length=1)


class Dag(_Strict):
    """One Airflow DAG. ``generated`` DAGs are written by ``gen-dags``; the others are hand-written at ``file``."""

    id: str = Field(pattern=ID_PATTERN)
    owner: str = Field(pattern=TEAM_PATTERN)
    schedule: str
    description: str = Field(min_length=10)
    generated: bool = True
    file: str | None = None
    tags: tuple[str, ...] = ()
    retries: int = Field(default=2, ge=1)

    _check_schedule = field_validator("schedule")(check_schedule)

    @model_validator(mode="after")
    def _file_rule(self) -> Self:
        if self.generated == (self.file is not None):
            raise ValueError("dag-file: hand-written DAGs (generated: false) name their file; generated DAGs do not")
        if self.schedule == CONTINUOUS:
            raise ValueError("dag-schedule: a DAG runs on a cron or preset schedule ('continuous' is for streaming pipelines)")
        return self


class DagsFile(_Strict):
    dags: tuple[dict[str, object], ...] = Field(min_length=1)


Scope = Literal["pipelines", "dags"]
