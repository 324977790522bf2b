"""Northstar PySpark batch jobs and their deploy-time verification."""
