"""Typed contracts between the release engine and the component entry points (ADR 0003), shared by both sides.

Every component entry point (``warehouse``, ``dagbag_check``, ``spark_verify``, ``infra_check``, ``infra_deploy``)
prints exactly ONE JSON object on stdout and exits 0 (ok) / 1 (problems) / 2 (usage). What that object looks like is
declared here once, as frozen records, and the rule itself is implemented once, in :mod:`northstar_contracts.harness`.

Why stdlib dataclasses validated by pydantic (and not ``pydantic.BaseModel``): this package is one source placed in
every resolve (tools, dbt, airflow, spark, infra), and the spark and infra lockfiles carry no pydantic. Components
only *build and emit* records (plain dataclasses + json, no dependency); readers *parse* them with
:func:`northstar_contracts.base.parse`, which validates with pydantic v2 (unknown fields, missing fields and wrong
types are rejected with the field path) wherever pydantic is installed: the engine's tools resolve, dbt, airflow.
"""
