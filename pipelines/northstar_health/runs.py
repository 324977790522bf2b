"""Run records read from Airflow's metadata DB (read-only; SQLite locally).

Why the metadata DB and not the REST API: the local embedded default has no webserver running, and the dag_run and
task_instance tables are what the scheduler itself writes. The DB is opened read-only (``mode=ro``), so a health
query can never change Airflow's state. Airflow stores UTC timestamps without an offset; they are read as UTC.

Data metrics per run (row volume, null rates, duplicate keys, freshness lag of the models a run writes) are what the
run's tasks push as the XCom ``northstar_data`` (contract in ``DATA_XCOM_KEY``'s docstring); the regression watch
compares them before vs after a deployment. XCom is the record Airflow itself keeps per run, so no second store is
needed. A run whose tasks push nothing simply has no data metrics.
"""

from __future__ import annotations

import json
import math
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from pydantic import BaseModel

FINISHED = ("success", "failed")

DATA_XCOM_KEY = "northstar_data"
"""XCom key of a run's data metrics: ``{"models": {MODEL: {"rows": N, "null_rate": {COLUMN: 0..1},
"duplicate_keys": N, "freshness_s": S}}}`` (every field optional; numbers only). Several tasks of one run may push
it (one per model they write); their ``models`` are merged. Flattened per model to ``rows``, ``null_rate.<column>``,
``duplicate_keys`` and ``freshness_s`` (seconds between the newest row's load time and the end of the run)."""


class HealthInputError(Exception):
    """Bad input (missing file, wrong schema); the CLI exits 2 and names the file and the rule."""


class RunRecord(BaseModel):
    """One finished-or-not DAG run with the tasks that failed in it."""

    pipeline: str  # the DAG id
    run_id: str
    state: str
    logical_date: datetime
    start: datetime | None
    end: datetime | None
    failed_tasks: list[str] = []
    data: dict[str, dict[str, float]] = {}  # model -> flattened metric -> value (DATA_XCOM_KEY)

    @property
    def finished(self) -> bool:
        return self.state in FINISHED and self.end is not None

    @property
    def failed(self) -> bool:
        return self.state == "failed"

    @property
    def duration_s(self) -> float | None:
        if self.start is None or self.end is None:
            return None
        return (self.end - self.start).total_seconds()


def _ts(value: str | None) -> datetime | None:
    if value is None:
        return None
    parsed = datetime.fromisoformat(str(value).replace(" ", "T"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _number(value: object, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise HealthInputError(f"{where}: {value!r} is not a finite number (rule: XCom {DATA_XCOM_KEY} holds numbers)")
    return float(value)


def flatten_data(doc: object, where: str) -> dict[str, dict[str, float]]:
    """One ``northstar_data`` document -> model -> metric -> value; malformed input names ``where`` and the rule."""
    models = doc.get("models") if isinstance(doc, dict) else None
    if not isinstance(models, dict):
        raise HealthInputError(f"{where}: expected {{\"models\": {{MODEL: {{...}}}}}} (rule: XCom {DATA_XCOM_KEY} "
                               "contract in northstar_health/runs.py)")
    out: dict[str, dict[str, float]] = {}
    for model, metrics in models.items():
        if not isinstance(metrics, dict):
            raise HealthInputError(f"{where}: models.{model} is not an object (rule: XCom {DATA_XCOM_KEY} contract)")
        flat: dict[str, float] = {}
        for name, value in metrics.items():
            if name == "null_rate" and isinstance(value, dict):
                for column, rate in value.items():
                    flat[f"null_rate.{column}"] = _number(rate, f"{where}: models.{model}.null_rate.{column}")
            elif name in ("rows", "duplicate_keys", "freshness_s"):
                flat[name] = _number(value, f"{where}: models.{model}.{name}")
            else:
                raise HealthInputError(f"{where}: models.{model}.{name}: unknown metric (rule: rows, null_rate, "
                                       f"duplicate_keys, freshness_s; XCom {DATA_XCOM_KEY} contract)")
        out[str(model)] = flat
    return out


def _read_data(conn: sqlite3.Connection, db_path: Path) -> dict[tuple[str, str], dict[str, dict[str, float]]]:
    """``(dag_id, run_id) -> model -> metric -> value`` from the XComs ``northstar_data`` (none: empty)."""
    if not {row[1] for row in conn.execute("PRAGMA table_info(xcom)")} >= {"dag_id", "run_id", "key", "value"}:
        return {}
    found: dict[tuple[str, str], dict[str, dict[str, float]]] = {}
    for dag_id, run_id, task_id, value in conn.execute(
        "SELECT dag_id, run_id, task_id, value FROM xcom WHERE key = ? ORDER BY task_id", (DATA_XCOM_KEY,)
    ):
        where = f"{db_path}: XCom {DATA_XCOM_KEY} of {dag_id}/{run_id}/{task_id}"
        try:
            doc = json.loads(value)
        except (TypeError, ValueError) as exc:
            raise HealthInputError(f"{where}: not JSON ({exc}) (rule: push a JSON-serialisable dict)") from exc
        found.setdefault((dag_id, run_id), {}).update(flatten_data(doc, where))
    return found


def read_airflow_runs(db_path: Path) -> list[RunRecord]:
    """Every DAG run in the metadata DB, oldest logical date first."""
    if not db_path.is_file():
        raise HealthInputError(f"{db_path}: Airflow metadata DB not found (rule: --airflow-db must name an existing SQLite file)")
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        columns = {row[1] for row in conn.execute("PRAGMA table_info(dag_run)")}
        if not columns:
            raise HealthInputError(f"{db_path}: no dag_run table (rule: the file must be an Airflow metadata DB)")
        date_col = "logical_date" if "logical_date" in columns else "execution_date"
        failed: dict[tuple[str, str], list[str]] = {}
        for dag_id, run_id, task_id in conn.execute(
            "SELECT dag_id, run_id, task_id FROM task_instance WHERE state = 'failed' ORDER BY task_id"
        ):
            failed.setdefault((dag_id, run_id), []).append(task_id)
        rows = conn.execute(
            f"SELECT dag_id, run_id, state, {date_col}, start_date, end_date FROM dag_run ORDER BY {date_col}"  # noqa: S608
        ).fetchall()
        data = _read_data(conn, db_path)
    except sqlite3.DatabaseError as exc:
        raise HealthInputError(f"{db_path}: cannot read Airflow tables ({exc}) (rule: must be an Airflow metadata DB)") from exc
    finally:
        conn.close()
    records = []
    for dag_id, run_id, state, logical, start, end in rows:
        logical_at = _ts(logical)
        assert logical_at is not None
        records.append(RunRecord(pipeline=dag_id, run_id=run_id, state=state or "none", logical_date=logical_at,
                                 start=_ts(start), end=_ts(end), failed_tasks=failed.get((dag_id, run_id), []),
                                 data=data.get((dag_id, run_id), {})))
    return records
