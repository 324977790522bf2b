"""Stage durations per environment from deployment rows (``StateStore.deployments()``).

Why from the deployment rows: the engine records each stage's completion time there (``Deployment.stages``: stage name
-> ISO timestamp); the chain only holds the switch entries. A stage's duration is its completion time minus the
previous stage's completion (the first stage: minus ``started_at``), so the durations of a deployment add up to its
time from start to its last completed stage.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel


class StageStats(BaseModel):
    count: int
    median_s: float
    max_s: float


def _parse(value: str) -> datetime:
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def stage_key(name: str) -> str:
    """Group per-artifact stages by kind: ``deploy:airflow_dags:orders`` -> ``deploy:airflow_dags``."""
    parts = name.split(":")
    return ":".join(parts[:2]) if parts[0] == "deploy" else name


def stage_durations(deployments: Iterable[Any], since: datetime, until: datetime) -> dict[str, dict[str, StageStats]]:
    """``env -> stage -> stats`` over deployments started in ``[since, until)``."""
    samples: dict[str, dict[str, list[float]]] = {}
    for dep in deployments:
        started = dep.started_at if dep.started_at.tzinfo else dep.started_at.replace(tzinfo=UTC)
        if not since <= started < until:
            continue
        previous = started
        for name, at in sorted(dep.stages.items(), key=lambda kv: _parse(kv[1])):
            done = _parse(at)
            samples.setdefault(dep.env, {}).setdefault(stage_key(name), []).append((done - previous).total_seconds())
            previous = done
    return {env: {stage: StageStats(count=len(v), median_s=statistics.median(v), max_s=max(v))
                  for stage, v in sorted(stages.items())} for env, stages in sorted(samples.items())}
