"""Pants plugin for the Northstar platform: target types for dbt projects, Airflow DAGs and legacy pass-through DAGs."""

from __future__ import annotations

from northstar import target_types as tt


def target_types():  # type: ignore[no-untyped-def]
    return tt.target_types()
