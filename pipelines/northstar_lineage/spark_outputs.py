"""The declared output schema of every Spark job that writes a bronze table, read from the catalog without pyspark.

Why from the catalog: every ingestion job declares ``OUTPUT_SCHEMA = bronze_schema(SYSTEM, TABLE)``
(``spark/northstar_spark/common.py``): the table's columns from the source contract -- generated from
``pipelines/catalog/sources.yaml`` and kept identical to it by the spark codegen check -- plus ``_ingested_at`` and
the lineage columns (Kafka partition/offset for topics, the source file otherwise). Which job writes which bronze
table is the catalog pipeline's ``sink`` and ``runs.spark_job``. Reading those two YAML files gives the same schema
the job code builds, in any resolve and at any commit (the release engine cannot import pyspark).

Python 3.9 compatible like the package.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import yaml

SOURCES_YAML = "pipelines/catalog/sources.yaml"
PIPELINES_DIR = "pipelines/catalog/pipelines/"
# common.lineage_fields: what every bronze writer adds after the contract columns.
INGESTED_AT = ("_ingested_at", "timestamp")
KAFKA_LINEAGE = (("_kafka_partition", "int"), ("_kafka_offset", "bigint"))
FILE_LINEAGE = (("_source_file", "varchar"),)


@dataclass(frozen=True)
class SparkOutput:
    job: str  # the Spark job (spark/northstar_spark/jobs/<job>.py)
    relation: str  # bronze.<system>__<table>
    pipeline: str  # the catalog pipeline running it
    topic: str | None  # the Kafka topic it reads, if any
    columns: tuple[tuple[str, str], ...]  # (name, logical type), in order


def bronze_columns(sources: Mapping[str, Any], system: str, table: str) -> tuple[tuple[str, str], ...] | None:
    spec = ((sources.get(system) or {}).get("tables") or {}).get(table)
    if not isinstance(spec, dict):
        return None
    cols = tuple((str(k), str(v)) for k, v in (spec.get("columns") or {}).items())
    lineage = KAFKA_LINEAGE if (sources.get(system) or {}).get("kind") == "kafka" else FILE_LINEAGE
    return cols + (INGESTED_AT,) + lineage


def spark_outputs(contents: Mapping[str, str]) -> list[SparkOutput]:
    """Every (job, bronze table) pair the catalog in ``contents`` declares, with the output columns."""
    sources = (yaml.safe_load(contents.get(SOURCES_YAML, "")) or {}).get("systems") or {}
    out = []
    for path in sorted(p for p in contents if p.startswith(PIPELINES_DIR) and p.endswith((".yaml", ".yml"))):
        for pipeline in (yaml.safe_load(contents[path]) or {}).get("pipelines") or []:
            runs = pipeline.get("runs") or {}
            sink = str(pipeline.get("sink", ""))
            if not runs.get("spark_job") or not sink.startswith("bronze.") or "__" not in sink:
                continue
            system, table = sink[len("bronze."):].split("__", 1)
            cols = bronze_columns(sources, system, table)
            if cols is None:
                continue
            topic = (pipeline.get("source") or {}).get("kafka")
            out.append(SparkOutput(job=str(runs["spark_job"]), relation=sink, pipeline=str(pipeline.get("id")),
                                   topic=str(topic) if topic else None, columns=cols))
    return out
