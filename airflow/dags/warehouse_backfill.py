"""Manual warehouse backfill: restate a model selection over a date range with SQLMesh, in this environment only.

Why hand-written: it is triggered by a person with parameters (``select``, ``start``, ``end``), validates them before
anything runs (bounded range, no shell metacharacters), passes them to the shell only through environment variables
(never interpolated into the command), and audits the restated range afterwards.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Any

from airflow import DAG
from airflow.models.param import Param
from airflow.operators.bash import BashOperator
from airflow.operators.python import PythonOperator

MAX_DAYS = 92
PROJECT = 'live="${NORTHSTAR_ENV_DIR:?NORTHSTAR_ENV_DIR is not set}/warehouse"\nproject="$live/$(cat "$live/LIVE")"\n'
SQLMESH = '${NORTHSTAR_SQLMESH:-sqlmesh} --paths "$project"'


def validate_params(params: dict[str, Any], **_: Any) -> dict[str, str]:
    """Refuse a backfill that is unbounded, reversed or carries anything but model selectors."""
    start, end = date.fromisoformat(params["start"]), date.fromisoformat(params["end"])
    if end < start or (end - start).days > MAX_DAYS:
        raise ValueError(f"backfill range {start}..{end} must be ordered and at most {MAX_DAYS} days")
    if not re.fullmatch(r"[A-Za-z0-9_.*+:, ]+", params["select"]):
        raise ValueError(f"select '{params['select']}' may only hold model names, tag:x, + and *")
    return {"start": str(start), "end": str(end), "select": params["select"]}


ENV = {"SELECT": "{{ params.select }}", "START": "{{ params.start }}", "END": "{{ params.end }}"}

with DAG(
    dag_id="warehouse_backfill",
    description="Restate a model selection over a date range with SQLMesh in this environment, then audit it.",
    schedule=None,
    start_date=datetime(2024, 1, 1),
    catchup=False,
    max_active_runs=1,
    default_args={"owner": "data-platform", "retries": 1, "retry_delay": timedelta(minutes=5)},
    params={
        "select": Param("*.fct_daily_revenue", type="string", description="SQLMesh model selection"),
        "start": Param("2024-01-01", type="string", format="date"),
        "end": Param("2024-01-07", type="string", format="date"),
    },
    tags=["backfill", "warehouse"],
    doc_md=__doc__,
) as dag:
    check = PythonOperator(task_id="validate_params", python_callable=validate_params)
    restate = BashOperator(
        task_id="restate_range",
        bash_command="set -eu\n" + PROJECT + "exec " + SQLMESH + ' plan "${NORTHSTAR_ENV:?}" --restate-model "$SELECT" '
        '--start "$START" --end "$END" --auto-apply --no-prompts',
        env=ENV,
        append_env=True,
    )
    audit = BashOperator(
        task_id="audit_range",
        bash_command="set -eu\n" + PROJECT + "exec " + SQLMESH + ' audit --start "$START" --end "$END"',
        env=ENV,
        append_env=True,
    )
    check >> restate >> audit
