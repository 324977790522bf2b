"""Northstar dbt project helpers: locate the project and prepare isolated copies for SQLMesh runs."""
