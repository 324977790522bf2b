"""The job tests' synthetic rows: the library module ``northstar_spark.synthetic`` (the deploy-time verifier builds
its fixtures from the same generator, so it lives beside the jobs, not under tests/)."""

from __future__ import annotations

from decimal import Decimal

from northstar_spark.synthetic import BASE_DATE, BASE_TS, frame, kafka_records, land, rows, value, write_input

__all__ = ["BASE_DATE", "BASE_TS", "Decimal", "frame", "kafka_records", "land", "rows", "value", "write_input"]
