"""What the pipeline catalog says each DAG task must carry: the SLA it declares and the Spark job it runs.

The DAG bundle ships the catalog's ``pipelines/*.yaml`` next to the DAGs (bundle folder ``catalog/``), so the check
of a bundle compares it with the catalog of the same commit. Only the three fields this check needs are read (``id``,
``sla``, ``runs``); the catalog's own validator (``python -m northstar_catalog validate``, tools resolve) owns the rest
of the schema. The task that runs a pipeline is named after the pipeline (catalog codegen and hand-written DAGs alike).
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from pathlib import Path
from typing import Any

import yaml  # type: ignore[import-untyped]  # pants: no-infer-dep  (installed with apache-airflow)

from northstar_contracts.harness import UsageError


@dataclasses.dataclass(frozen=True)
class TaskExpectation:
    """Catalog pipeline ``pipeline`` runs as task ``pipeline`` in DAG ``dag_id``."""

    pipeline: str
    dag_id: str
    sla: timedelta | None
    spark_job: str | None
    source: str  # catalog file, for messages


def describe(sla: timedelta) -> str:
    seconds = int(sla.total_seconds())
    return f"{seconds // 60} min" if seconds % 60 == 0 and seconds >= 60 else f"{seconds} s"


def _sla(raw: Any, where: str) -> timedelta | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise UsageError(f"{where}: sla must be a mapping (batch_minutes or freshness_seconds)", file=where)
    if raw.get("batch_minutes") is not None:
        return timedelta(minutes=int(raw["batch_minutes"]))
    if raw.get("freshness_seconds") is not None:
        return timedelta(seconds=int(raw["freshness_seconds"]))
    return None


def load(folder: Path | None) -> dict[str, dict[str, TaskExpectation]]:
    """``dag_id -> task_id -> expectation`` from every ``*.yaml`` under ``folder`` (empty without a catalog)."""
    out: dict[str, dict[str, TaskExpectation]] = {}
    if folder is None:
        return out
    for path in sorted(folder.rglob("*.yaml")):
        where = f"{folder.name}/{path.relative_to(folder).as_posix()}"
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            raise UsageError(f"{where}: not valid YAML: {exc}", file=where) from None
        entries = data.get("pipelines") if isinstance(data, dict) else None
        for entry in entries if isinstance(entries, list) else []:
            runs = entry.get("runs") if isinstance(entry, dict) else None
            if not isinstance(runs, dict) or not entry.get("id") or not runs.get("dag"):
                continue
            pid = str(entry["id"])
            out.setdefault(str(runs["dag"]), {})[pid] = TaskExpectation(
                pipeline=pid, dag_id=str(runs["dag"]), sla=_sla(entry.get("sla"), f"{where} (pipeline {pid})"),
                spark_job=runs.get("spark_job"), source=where)
    return out
