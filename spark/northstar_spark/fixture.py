"""What verifying a job needs: its entry point, declared output schema, input files and expected rows.

Why a module of its own: both verifiers (in process: ``verify``; packaged PEX: ``verify_pex``/``verify_batch``) use it,
and neither verifier imports the other's runner. The registry of fixtures per job (``verify.JOBS``) stays in
``verify``, beside the jobs it imports.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pyspark.sql.types import StructField, StructType


@dataclass(frozen=True)
class JobFixture:
    """What verify needs to run a job: its entry point, contract, input files and expected rows."""

    main: Callable[..., int]
    output_schema: StructType
    inputs: dict[str, list[dict[str, Any]]]
    expected: list[tuple[Any, ...]]

    def expected_json_rows(self) -> list[list[Any]]:
        """Expected rows as the packaged launcher reports rows (JSON scalars, everything else as str)."""
        return [[v if isinstance(v, int | float | str | bool) or v is None else str(v) for v in r]
                for r in self.expected]


def as_nullable(schema: StructType) -> StructType:
    """The schema as it reads back from Parquet: same names and types, every field nullable."""
    return StructType([StructField(f.name, f.dataType, True, f.metadata) for f in schema.fields])


def write_inputs(folder: Path, inputs: dict[str, list[dict[str, Any]]]) -> None:
    """Write each fixture table as ``folder/<name>`` CSV with a header row."""
    for name, rows in inputs.items():
        with open(folder / name, "w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
