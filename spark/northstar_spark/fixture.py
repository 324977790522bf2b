"""What verifying a job needs: its entry point, declared output schema, how to write its input and expected rows.

Why a module of its own: both verifiers (in process: ``verify``; packaged PEX: ``verify_pex``/``verify_batch``) use it,
and neither verifier imports the other's runner. The registry of fixtures per job (``verify.JOBS``) stays in
``verify``, beside the jobs it imports; generated fixtures for every registered job are in ``verify_fixtures``.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pyspark.sql.types import StructField, StructType

WORK = "{work}"  # placeholder in JobFixture.args: the run's scratch folder (e.g. a streaming checkpoint under it)


@dataclass(frozen=True)
class JobFixture:
    """What verify needs to run a job: its entry point, contract, input files and expected rows.

    ``inputs`` are CSV tables (file name -> rows); a fixture whose job reads another format gives ``writer`` instead,
    which writes the input folder itself. ``expected`` is None when the fixture has no hand-checked result (generated
    data): ``values_match`` is then reported False -- it is evidence only, the schema decides. ``args`` are extra job
    arguments after ``--input``/``--output``.
    """

    main: Callable[..., int]
    output_schema: StructType
    inputs: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    expected: list[tuple[Any, ...]] | None = None
    writer: Callable[[Path], None] | None = None
    args: tuple[str, ...] = ()

    def expected_json_rows(self) -> list[list[Any]] | None:
        """Expected rows as the packaged launcher reports rows (JSON scalars, everything else as str)."""
        if self.expected is None:
            return None
        return [[v if isinstance(v, int | float | str | bool) or v is None else str(v) for v in r]
                for r in self.expected]

    def write(self, folder: Path) -> None:
        """Write the job's input into ``folder`` (created)."""
        folder.mkdir(parents=True, exist_ok=True)
        if self.writer is not None:
            self.writer(folder)
        write_inputs(folder, self.inputs)

    def argv(self, work: Path) -> list[str]:
        """The job's arguments for a run staged in ``work`` (input in ``work/input``, output to ``work/output``)."""
        return ["--input", str(work / "input"), "--output", str(work / "output"),
                *(a.replace(WORK, str(work)) for a in self.args)]


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
