"""Pants plugin for the Northstar platform: target types for dbt projects, Airflow DAGs and legacy pass-through DAGs,
and dependency inference from the platform's lineage (dbt ref()/source()/macros, catalog DAG -> models/jobs/schemas)."""

from __future__ import annotations

from northstar import lineage_rules
from northstar import target_types as tt


def target_types():  # type: ignore[no-untyped-def]
    return tt.target_types()


def rules():  # type: ignore[no-untyped-def]
    return lineage_rules.rules()
