"""Produce a real Airflow metadata DB with a scripted run history (test fixture; airflow resolve).

Why a separate entry point: the health package lives in the tools resolve and must never import Airflow, but its
pipeline-health code has to be tested against the tables Airflow really writes. This script runs in Airflow's own
resolve (as a PEX), migrates a fresh SQLite metadata DB and executes a tiny 3-task DAG with ``dag.test()`` once per
scripted run, so dag_run and task_instance rows are Airflow's own, with real states and timings.

Usage: ``airflow_history.pex SPEC.json AIRFLOW_HOME`` where SPEC is
``{"steps": [{"dag_id": "d", "fail": false, "sleep_s": 0.0}, {"mark": "deployed"}, ...]}``: DAG runs in order, each
with logical date = the wall-clock time it starts (``dag.test()`` records the logical date as the run's start, so only
"now" gives real run durations), and named marks (e.g. the moment a deployment went live) recorded in between.
Prints one JSON object: the DB path, each run with the state Airflow recorded, and the marks' times.

A step may also carry ``"table": {"model": "fct_orders", "rows": 1000, "null_every": 0, "duplicates": 0,
"lag_s": 30}``: its ``load`` task then rebuilds that table (full refresh) in ``AIRFLOW_HOME/warehouse.db`` (SQLite)
with that many rows -- every ``null_every``-th ``customer_id`` NULL, ``duplicates`` repeated keys, rows loaded
``lag_s`` seconds ago -- profiles it with SQL (count, null rate, duplicate keys, age of the newest row) and pushes the
profile as the XCom ``northstar_data``, the contract the regression watch reads (northstar_health/runs.py).
"""

from __future__ import annotations

import json
import logging
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any


def _configure(home: Path) -> Path:
    """Point Airflow at ``home`` before it is imported (its settings are read at import time)."""
    home = home.absolute()
    home.mkdir(parents=True, exist_ok=True)
    db = home / "airflow.db"
    os.environ["AIRFLOW_HOME"] = str(home)
    os.environ["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = f"sqlite:///{db}"
    os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
    os.environ["AIRFLOW__CORE__UNIT_TEST_MODE"] = "False"
    os.environ["AIRFLOW__LOGGING__LOGGING_LEVEL"] = "ERROR"
    return db


def _write_and_profile(spec: dict[str, Any]) -> dict[str, Any]:
    """Rebuild the step's table with real rows and return its profile (the XCom ``northstar_data`` document)."""
    import sqlite3
    import time

    model, rows = str(spec["model"]), int(spec["rows"])
    null_every, duplicates, lag = int(spec.get("null_every", 0)), int(spec.get("duplicates", 0)), float(spec.get("lag_s", 0))
    loaded = time.time() - lag
    con = sqlite3.connect(Path(os.environ["AIRFLOW_HOME"]) / "warehouse.db")
    try:
        con.execute(f"CREATE TABLE IF NOT EXISTS {model} (order_id INTEGER, customer_id INTEGER, loaded_at REAL)")
        con.execute(f"DELETE FROM {model}")  # noqa: S608 (fixture-controlled name)
        con.executemany(f"INSERT INTO {model} VALUES (?, ?, ?)", [  # noqa: S608
            (i if i > duplicates else 0, None if null_every and i % null_every == 0 else i % 97, loaded)
            for i in range(rows)])
        count, nulls, distinct, newest = con.execute(
            f"SELECT count(*), count(*) - count(customer_id), count(DISTINCT order_id), max(loaded_at) FROM {model}"  # noqa: S608
        ).fetchone()
        con.commit()
    finally:
        con.close()
    return {"models": {model: {"rows": count, "null_rate": {"customer_id": nulls / count if count else 0.0},
                               "duplicate_keys": count - distinct, "freshness_s": round(time.time() - newest, 3)
                               if newest is not None else 0.0}}}


def _make_dag(dag_id: str) -> Any:
    from airflow import DAG
    from airflow.operators.python import PythonOperator

    def extract() -> None:
        return None

    def transform(**context: Any) -> None:
        if context["dag_run"].conf.get("fail"):
            raise RuntimeError("scripted failure (regression injected by the test history)")

    def load(**context: Any) -> None:
        import time

        time.sleep(float(context["dag_run"].conf.get("sleep_s", 0.0)))
        table = context["dag_run"].conf.get("table")
        if table:
            context["ti"].xcom_push(key="northstar_data", value=_write_and_profile(table))

    with DAG(dag_id, schedule=None, start_date=datetime(2020, 1, 1), catchup=False) as dag:
        t1 = PythonOperator(task_id="extract", python_callable=extract)
        t2 = PythonOperator(task_id="transform", python_callable=transform)
        t3 = PythonOperator(task_id="load", python_callable=load)
        t1 >> t2 >> t3
    return dag


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: airflow_history SPEC.json AIRFLOW_HOME", file=sys.stderr)
        return 2
    spec = json.loads(Path(argv[0]).read_text())
    db = _configure(Path(argv[1]))
    from airflow.utils import db as airflow_db

    logging.disable(logging.WARNING)
    airflow_db.initdb()
    runs: list[dict[str, Any]] = []
    marks: dict[str, str] = {}
    dags: dict[str, Any] = {}
    for step in spec["steps"]:
        if "mark" in step:
            marks[str(step["mark"])] = datetime.now(UTC).isoformat()
            continue
        dag = dags.get(step["dag_id"]) or dags.setdefault(step["dag_id"], _make_dag(step["dag_id"]))
        conf = {"fail": bool(step.get("fail", False)), "sleep_s": float(step.get("sleep_s", 0.0)),
                "table": step.get("table")}
        dag_run = dag.test(execution_date=datetime.now(UTC), run_conf=conf)
        runs.append({"dag_id": dag.dag_id, "run_id": dag_run.run_id, "state": str(dag_run.state)})
    print(json.dumps({"db": str(db), "runs": runs, "marks": marks}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
