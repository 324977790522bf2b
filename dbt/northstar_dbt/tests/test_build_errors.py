"""Issue 10, deliver 6: a model that fails to build in the gate's scratch environment is reported with its own SQL
error -- model, column, message -- and not as the downstream "table ... does not exist" the audits would hit next.

Real SQLMesh over the pilot slice of the real dbt project on DuckDB, through the entry point's ``audit --scratch``
(what the ``warehouse_audit`` gate runs inside ``check``)."""

from __future__ import annotations

from pathlib import Path

from northstar_dbt.project import copy_pilot_project
from northstar_dbt.tests.test_warehouse_entrypoint import run_wh

NEW_MODEL = "select order_id, customer_id, order_channel from {{ ref('stg_orders') }}\n"
DOWNSTREAM = "select count(*) as orders from {{ ref('fct_orders_by_channel') }}\n"


def test_new_model_referencing_a_missing_column_names_the_model_and_the_column(tmp_path: Path) -> None:
    project = copy_pilot_project(tmp_path / "project")
    (project / "models" / "marts" / "fct_orders_by_channel.sql").write_text(NEW_MODEL)
    (project / "models" / "marts" / "fct_channel_count.sql").write_text(DOWNSTREAM)
    res = run_wh("audit", "--scratch", "--project", project)
    assert res.code == 1 and res.payload["ok"] is False, res.payload
    error = res.payload["build_error"]
    assert error.startswith("model fct_orders_by_channel failed to build, column order_channel: "), error
    assert "Binder" in error and "order_channel" in error
    assert "does not exist" not in error and "fct_channel_count" not in error  # the downstream symptom is not reported
    assert res.payload["audits"] == []  # no audit ran on a build that failed
