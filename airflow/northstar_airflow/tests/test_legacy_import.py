"""Legacy DAGs are pass-through: they must import, and nothing else is asserted about them."""

from __future__ import annotations

from airflow.models.dagbag import DagBag

from northstar_airflow.tests.conftest import LEGACY_DAGS_DIR


def test_legacy_dags_import() -> None:
    dagbag = DagBag(dag_folder=str(LEGACY_DAGS_DIR), include_examples=False)
    assert dagbag.import_errors == {}
    assert "legacy_inventory_sync" in dagbag.dag_ids
