"""The Spark jobs that read each topic, and the columns they read: checked against the topic's new schema.

Why here: a schema change can be perfectly BACKWARD_TRANSITIVE (dropping a field is) and still break the streaming
job that reads the topic into bronze. The job's input contract is ``spark/northstar_spark/source_contract.py``,
generated from the Kafka table's ``columns`` in ``pipelines/catalog/sources.yaml``; the catalog pipeline with
``source: {kafka: <topic>}`` names the job (``runs.spark_job``). Both are read from the release's commit and packaged
into the bundle, so the check depends on the artifact only. A consumer column that the schema no longer has, or has
with another type (int -> bigint is a safe widening), blocks and names the job and the pipeline.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from northstar_release import gitutil, strict_yaml

PIPELINES_DIR = "pipelines/catalog/pipelines"
AVRO_TO_COLUMN = {"long": "bigint", "int": "int", "string": "varchar", "boolean": "boolean", "double": "double",
                  "float": "float", "bytes": "binary"}
LOGICAL = {"timestamp-millis": "timestamp", "timestamp-micros": "timestamp", "date": "date"}
WIDENINGS = {("int", "bigint"), ("float", "double")}  # (schema type, column type) a reader converts safely


@dataclass(frozen=True)
class Consumer:
    pipeline: str
    spark_job: str
    columns: tuple[tuple[str, str], ...]  # (name, logical type) the job reads


def column_type(avro_type: Any) -> str:
    """An Avro field type as the catalog's column type (``decimal(12,2)``, ``timestamp``, ``varchar``...)."""
    if isinstance(avro_type, list):
        branches = [t for t in avro_type if t != "null"]
        return column_type(branches[0]) if len(branches) == 1 else "union"
    if isinstance(avro_type, dict):
        logical = avro_type.get("logicalType")
        if logical == "decimal":
            return f"decimal({avro_type.get('precision')},{avro_type.get('scale', 0)})"
        if logical in LOGICAL:
            return LOGICAL[str(logical)]
        return column_type(avro_type.get("type"))
    return AVRO_TO_COLUMN.get(str(avro_type), str(avro_type))


def consumers_at(repo: Path, commit: str, sources: dict[str, Any]) -> dict[str, list[Consumer]]:
    """topic -> the Spark jobs that read it, with the columns of the topic's Kafka table in sources.yaml."""
    columns: dict[str, tuple[tuple[str, str], ...]] = {}
    for system in (sources.get("systems") or {}).values():
        if isinstance(system, dict) and system.get("kind") == "kafka":
            for table in (system.get("tables") or {}).values():
                if isinstance(table, dict) and "topic" in table:
                    columns[str(table["topic"])] = tuple((str(k), str(v)) for k, v in (table.get("columns") or {}).items())
    found: dict[str, list[Consumer]] = {}
    for path, oid in gitutil.list_tree(repo, commit, PIPELINES_DIR):
        if not path.endswith((".yaml", ".yml")):
            continue
        doc = strict_yaml.loads(gitutil.read_blob(repo, oid), path, "pipeline catalog") or {}
        for pipeline in doc.get("pipelines") or []:
            topic = ((pipeline.get("source") or {}).get("kafka")) if isinstance(pipeline, dict) else None
            job = (pipeline.get("runs") or {}).get("spark_job") if topic else None
            if topic and job:
                found.setdefault(str(topic), []).append(Consumer(str(pipeline.get("id")), str(job),
                                                                 columns.get(str(topic), ())))
    return {t: sorted(c, key=lambda c: c.pipeline) for t, c in sorted(found.items())}


def broken_reads(schema_text: str, consumers: tuple[Consumer, ...]) -> list[str]:
    """What each consumer reads that ``schema_text`` no longer provides (missing field or another type)."""
    fields = {str(f["name"]): column_type(f["type"]) for f in json.loads(schema_text).get("fields", [])}
    problems = []
    for consumer in consumers:
        for name, wanted in consumer.columns:
            has = fields.get(name)
            if has is None:
                why = "the schema has no such field"
            elif has != wanted and (has, wanted) not in WIDENINGS:
                why = f"the schema now has {has}"
            else:
                continue
            problems.append(f"breaks consumer Spark job '{consumer.spark_job}' (pipeline {consumer.pipeline}): it "
                            f"reads {name} {wanted}, {why}")
    return problems
