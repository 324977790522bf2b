"""One JSON-ready report combining deployment health, stage durations and pipeline health (CLI, dashboard, metrics)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from northstar_health.dora import Attempt, EnvDora, attempts_from_chain, env_dora
from northstar_health.slo import PipelineHealth
from northstar_health.sources import ReleaseHistory
from northstar_health.stages import StageStats, stage_durations


def deployment_health(history: ReleaseHistory, since: datetime, until: datetime, env: str | None = None
                      ) -> tuple[list[Attempt], dict[str, EnvDora], dict[str, dict[str, StageStats]]]:
    attempts = attempts_from_chain(history.entries, history.commit_times)
    envs = [env] if env else sorted({a.env for a in attempts})
    dora = {e: env_dora(attempts, e, since, until) for e in envs}
    stages = {e: s for e, s in stage_durations(history.deployments, since, until).items() if e in envs}
    return attempts, dora, stages


def to_json(dora: dict[str, EnvDora] | None = None, stages: dict[str, dict[str, StageStats]] | None = None,
            pipelines: list[PipelineHealth] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if dora is not None:
        out["deployments"] = {e: d.model_dump(mode="json") for e, d in dora.items()}
    if stages is not None:
        out["stage_durations"] = {e: {k: s.model_dump(mode="json") for k, s in v.items()} for e, v in stages.items()}
    if pipelines is not None:
        out["pipelines"] = [p.model_dump(mode="json") for p in pipelines]
    return out

