"""The error-budget check (``check:error_budget``): prod promotions touching an exhausted pipeline are refused.

Policy (issue 12, declared per env as ``health.budget_block``): when a DAG's monthly error budget of the 99.9 %
successful-runs objective is spent (``northstar_health.slo``: failed runs this month > 0.1 % of its finished runs),
a deploy/promote into the env whose release touches that DAG is BLOCKED, naming the DAG and its figures. Rollbacks
never reach this check (their plan has no such stage: restoring known-good is how the budget stops burning), and
releases tagged ``hotfix`` pass (``slo.budget_block_reasons``): a fix must be able to ship.

Inputs: the env's Airflow metadata DB (``health_sources.airflow_db_path``) read at the policy clock ``now`` (so a
drill with NORTHSTAR_NOW evaluates that month), and the DAGs the release ships (its DagBag evidence). An env with no
metadata DB yet has recorded no runs, so no budget is spent: the check passes (a fresh env is not blocked). A DB that
exists but cannot be read blocks (fail closed: a control that cannot run must not look like it passed). A release
whose DAG evidence is unknown is taken to touch every DAG.
"""

from __future__ import annotations

from datetime import datetime

from northstar_health.runs import HealthInputError, read_airflow_runs
from northstar_health.slo import budget_block_reasons, pipeline_health
from northstar_release.health_sources import airflow_db_path, state_dir_of, touched_dags
from northstar_release.model import Environment, Release
from northstar_release.state.base import StateStore


def applies(env: Environment) -> bool:
    return env.health is not None and env.health.budget_block


def error_budget_reasons(release: Release, env: Environment, store: StateStore, now: datetime) -> list[str]:
    """Blocking reasons (empty: pass) for ``release`` entering ``env`` under the error-budget policy."""
    if not applies(env):
        return []
    db = airflow_db_path(env, state_dir_of(store))
    if db is None:
        return [f"environments.{env.name}.health.airflow_db must be an absolute path with a non-SQLite state store; "
                "the error budget cannot be evaluated"]
    if not db.is_file():
        return []
    try:
        runs = read_airflow_runs(db)
    except HealthInputError as exc:
        return [f"error budget cannot be evaluated: {exc}"]
    health = pipeline_health(runs, {}, now)
    touched = touched_dags(store, release.id) or [p.dag_id for p in health]
    return budget_block_reasons(health, touched, action="promote", tags=release.tags)
