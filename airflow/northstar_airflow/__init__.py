"""Northstar Airflow tooling: DAG checks used by CI and the release engine."""
