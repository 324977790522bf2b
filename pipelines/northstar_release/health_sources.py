"""Where the engine's health features find their inputs: the env's Airflow metadata DB and the DAGs a release touches.

Why here and not in northstar_health: the health package is engine-independent (it reads records it is handed); which
file is an environment's Airflow metadata DB and which DAGs a release ships are facts of this engine's state layout
(``<state dir>/envs/<env>``) and of its gate evidence, shared by ``./release health``, the regression watch and the
error-budget check.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from northstar_release.model import Environment
from northstar_release.state.base import StateStore

DEFAULT_AIRFLOW_DB = "envs/{env}/airflow/airflow.db"


def state_dir_of(store: StateStore) -> Path | None:
    """The local state dir of a SQLite store (None for PostgreSQL: there, ``health.airflow_db`` must be absolute)."""
    return store.local_dir()


def airflow_db_path(env: Environment, state_dir: Path | None) -> Path | None:
    """The env's Airflow metadata DB: ``health.airflow_db`` (relative: under the state dir), else the default layout
    ``<state dir>/envs/<env>/airflow/airflow.db`` (AIRFLOW_HOME of the env's local Airflow)."""
    configured = env.health.airflow_db if env.health is not None else None
    relative = Path(configured or DEFAULT_AIRFLOW_DB.format(env=env.name))
    if relative.is_absolute():
        return relative
    return state_dir / relative if state_dir is not None else None


def _dag_ids(evidence: dict[str, Any]) -> list[str]:
    ids = evidence.get("dag_ids")
    return [str(d) for d in ids] if isinstance(ids, list) else []


def touched_dags(store: StateStore, release_id: str) -> list[str] | None:
    """The DAG ids the release's DAG bundle holds, as the DagBag reported them in any of its deployments' gate or
    verify evidence (``dag_ids``); None when no deployment of it recorded any (then callers consider every DAG).

    Why the whole bundle and not only the DAG files whose bytes changed: a bundle shares helper modules between
    DAGs, so a change to one file can break another DAG. Watching a DAG the release did not change costs one
    statistical test that, with an unchanged failure rate, does not fire.
    """
    found: set[str] = set()
    for dep in store.deployments(release_id=release_id):
        if dep.id is None:
            continue
        for result in store.gate_results(dep.id):
            found.update(_dag_ids(result.evidence))
    return sorted(found) if found else None


def changed_models(store: StateStore, release_id: str) -> list[str] | None:
    """The warehouse models the release changes and their direct downstream, as its ``data_quality`` gate compared
    them with prod in an earlier env (``models[].model`` of the gate's evidence); None when no deployment of it
    recorded any (a release without warehouse change: the watch then judges every model the runs report).

    Why the gate's list: it is the write-audit-publish set already judged before prod, so the watch follows the same
    models into prod's runs (row volume and data-quality metrics after vs before the deployment)."""
    found: set[str] = set()
    for dep in store.deployments(release_id=release_id):
        if dep.id is None:
            continue
        for result in store.gate_results(dep.id):
            if result.gate != "data_quality":
                continue
            models = result.evidence.get("models")
            for m in models if isinstance(models, list) else []:
                if isinstance(m, dict) and isinstance(m.get("model"), str):
                    found.add(m["model"])
    return sorted(found) if found else None
