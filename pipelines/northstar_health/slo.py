"""Pipeline health against the catalog's SLOs: success rate, monthly error budget, batch SLA, freshness.

SLOs come from the pipeline catalog (``pipelines/catalog/pipelines/*.yaml``: ``id``, ``sla.batch_minutes`` or
``sla.freshness_seconds``, ``runs.dag``). Health is computed per Airflow DAG, because the DAG run is the unit Airflow
records; a DAG running several catalog pipelines is held to the strictest SLA among them, and lists them all.

- success rate: successful / finished runs whose logical date is in the current calendar month (UTC) of ``now``.
- error budget (objective 99.9 % of runs succeed): allowed failures = (1 - objective) x finished runs this month;
  remaining = 1 - failures / allowed (1.0 with no runs; negative when overspent). Exhausted when remaining <= 0.
- batch SLA: a finished run misses it when its duration exceeds the SLA; p50/max duration over the month.
- freshness (streaming targets): ``now`` minus the end of the latest successful run.
Only this module reads the catalog files, and only the fields above (validation is the catalog's job).
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from datetime import datetime, timedelta
from pathlib import Path

import yaml
from pydantic import BaseModel

from northstar_health.runs import HealthInputError, RunRecord

OBJECTIVE = 0.999


class DagSlo(BaseModel):
    dag_id: str
    pipelines: list[str]
    batch_sla_s: float | None = None
    freshness_target_s: float | None = None


class PipelineHealth(BaseModel):
    dag_id: str
    pipelines: list[str]
    month_runs: int
    month_failed: int
    success_rate: float | None
    objective: float
    error_budget_allowed_failures: float
    error_budget_remaining: float
    budget_exhausted: bool
    duration_p50_s: float | None
    duration_max_s: float | None
    batch_sla_s: float | None
    sla_misses: int
    freshness_s: float | None
    freshness_target_s: float | None
    freshness_ok: bool | None
    last_success_at: datetime | None


def load_slos(catalog_dir: Path) -> dict[str, DagSlo]:
    """``dag_id -> DagSlo`` from every ``*.yaml`` under ``catalog_dir`` that has a ``pipelines`` list."""
    if not catalog_dir.is_dir():
        raise HealthInputError(f"{catalog_dir}: catalog folder not found (rule: --catalog names pipelines/catalog/pipelines)")
    slos: dict[str, DagSlo] = {}
    for path in sorted(catalog_dir.glob("*.yaml")):
        try:
            doc = yaml.safe_load(path.read_text())
        except yaml.YAMLError as exc:
            raise HealthInputError(f"{path}: not valid YAML ({exc})") from exc
        for i, p in enumerate((doc or {}).get("pipelines") or []):
            try:
                dag, pid, sla = p["runs"]["dag"], str(p["id"]), p["sla"]
            except (KeyError, TypeError) as exc:
                raise HealthInputError(f"{path}: pipelines[{i}] lacks {exc} (rule: each pipeline has id, sla, runs.dag)") from exc
            slo = slos.setdefault(dag, DagSlo(dag_id=dag, pipelines=[]))
            slo.pipelines.append(pid)
            if sla.get("batch_minutes") is not None:
                value = float(sla["batch_minutes"]) * 60
                slo.batch_sla_s = value if slo.batch_sla_s is None else min(slo.batch_sla_s, value)
            if sla.get("freshness_seconds") is not None:
                value = float(sla["freshness_seconds"])
                slo.freshness_target_s = value if slo.freshness_target_s is None else min(slo.freshness_target_s, value)
    return slos


def month_start(now: datetime) -> datetime:
    return now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def freshness_at(runs: list[RunRecord], at: datetime) -> float | None:
    """Seconds since the latest successful run ended, as seen at ``at``; None before any success."""
    ends = [r.end for r in runs if r.state == "success" and r.end is not None and r.end <= at]
    return (at - max(ends)).total_seconds() if ends else None


def pipeline_health(runs: Iterable[RunRecord], slos: dict[str, DagSlo], now: datetime,
                    objective: float = OBJECTIVE) -> list[PipelineHealth]:
    """One entry per DAG in the catalog or in the run history (a DAG without SLO gets None for SLA fields)."""
    by_dag: dict[str, list[RunRecord]] = {}
    for r in runs:
        by_dag.setdefault(r.pipeline, []).append(r)
    out = []
    for dag_id in sorted(set(by_dag) | set(slos)):
        slo = slos.get(dag_id, DagSlo(dag_id=dag_id, pipelines=[]))
        mine = by_dag.get(dag_id, [])
        month = [r for r in mine if r.finished and month_start(now) <= r.logical_date <= now]
        failed = sum(r.failed for r in month)
        allowed = (1 - objective) * len(month)
        remaining = 1.0 if not month else (1 - failed / allowed)
        durations = [d for r in month if (d := r.duration_s) is not None]
        misses = sum(1 for d in durations if slo.batch_sla_s is not None and d > slo.batch_sla_s)
        fresh = freshness_at(mine, now)
        successes = [r.end for r in mine if r.state == "success" and r.end is not None]
        out.append(PipelineHealth(
            dag_id=dag_id, pipelines=slo.pipelines, month_runs=len(month), month_failed=failed,
            success_rate=(len(month) - failed) / len(month) if month else None, objective=objective,
            error_budget_allowed_failures=allowed, error_budget_remaining=remaining, budget_exhausted=remaining <= 0,
            duration_p50_s=statistics.median(durations) if durations else None,
            duration_max_s=max(durations) if durations else None, batch_sla_s=slo.batch_sla_s, sla_misses=misses,
            freshness_s=fresh, freshness_target_s=slo.freshness_target_s,
            freshness_ok=None if slo.freshness_target_s is None or fresh is None else fresh <= slo.freshness_target_s,
            last_success_at=max(successes) if successes else None,
        ))
    return out


def freshness_grid(runs: Iterable[RunRecord], dags: list[str], now: datetime, hours: int = 24
                   ) -> tuple[list[datetime], list[list[float | None]]]:
    """Freshness (s) of each DAG at the end of each of the last ``hours`` hours: the heat map's data."""
    by_dag: dict[str, list[RunRecord]] = {d: [] for d in dags}
    for r in runs:
        if r.pipeline in by_dag:
            by_dag[r.pipeline].append(r)
    times = [now - timedelta(hours=hours - 1 - i) for i in range(hours)]
    return times, [[freshness_at(by_dag[d], t) for t in times] for d in dags]


def budget_block_reasons(health: Iterable[PipelineHealth], touched_dags: Iterable[str], *, action: str,
                         tags: Iterable[str] = ()) -> list[str]:
    """Why a prod promotion must be refused (empty list: allowed) under the error-budget policy.

    A promotion that touches a DAG whose monthly budget is exhausted is blocked, except rollbacks and releases tagged
    ``hotfix`` (they are how the budget stops burning). For the engine's ``checks.py``: non-empty -> BLOCKED.
    """
    if action == "rollback" or "hotfix" in set(tags):
        return []
    touched = set(touched_dags)
    return [f"error budget exhausted for {p.dag_id}: {p.month_failed} failed of {p.month_runs} runs this month "
            f"(allowed {p.error_budget_allowed_failures:.2f} at {p.objective:.1%}); only rollbacks and hotfix releases "
            "may touch it" for p in health if p.dag_id in touched and p.budget_exhausted]
