"""Deployment and pipeline health: DORA from the audit chain, SLOs from Airflow runs, regression watch, outputs."""
