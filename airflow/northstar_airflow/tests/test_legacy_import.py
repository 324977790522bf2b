"""Legacy DAGs are pass-through: they must import under Airflow 2 (old module paths, provide_context,
schedule_interval) and parse fast; nothing else is asserted about them."""

from __future__ import annotations

from airflow.models.dagbag import DagBag

from northstar_airflow.tests.conftest import LEGACY_DAG_IDS, LEGACY_DAGS_DIR, warm_airflow


# Pre-imported as the scheduler's parser does (see conftest.warm_airflow), so the timing is the file's.
LEGACY_MODULES = ("airflow.operators.python", "airflow.operators.bash_operator", "airflow.operators.python_operator", "airflow.sensors.external_task_sensor",
                  "airflow.utils.dates")


def test_legacy_dags_import_and_parse_fast() -> None:
    warm_airflow(LEGACY_MODULES)
    dagbag = DagBag(dag_folder=str(LEGACY_DAGS_DIR), include_examples=False)
    assert dagbag.import_errors == {}
    assert set(dagbag.dag_ids) == LEGACY_DAG_IDS
    print(f"legacy DagBag parse: total {sum(s.duration.total_seconds() for s in dagbag.dagbag_stats):.3f} s")
    slow = {s.file: s.duration.total_seconds() for s in dagbag.dagbag_stats if s.duration.total_seconds() > 0.2}
    assert not slow, slow
