"""Run records read from Airflow's metadata DB (read-only; SQLite locally).

Why the metadata DB and not the REST API: the local embedded default has no webserver running, and the dag_run and
task_instance tables are what the scheduler itself writes. The DB is opened read-only (``mode=ro``), so a health
query can never change Airflow's state. Airflow stores UTC timestamps without an offset; they are read as UTC.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from pydantic import BaseModel

FINISHED = ("success", "failed")


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
    except sqlite3.DatabaseError as exc:
        raise HealthInputError(f"{db_path}: cannot read Airflow tables ({exc}) (rule: must be an Airflow metadata DB)") from exc
    finally:
        conn.close()
    records = []
    for dag_id, run_id, state, logical, start, end in rows:
        logical_at = _ts(logical)
        assert logical_at is not None
        records.append(RunRecord(pipeline=dag_id, run_id=run_id, state=state or "none", logical_date=logical_at,
                                 start=_ts(start), end=_ts(end), failed_tasks=failed.get((dag_id, run_id), [])))
    return records
