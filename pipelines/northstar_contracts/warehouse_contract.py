"""Records of the warehouse entry point's ``contracts`` subcommand (issue 10, deliver 2: enforced dbt contracts).

Why a separate module from ``warehouse.py``: one subcommand, one small file; the engine's ``contract`` gate is its only
reader. The component reports facts (what the contract declares, what the candidate environment builds, what the
target environment serves); the engine adds who consumes a broken column (``northstar_lineage``), which the dbt
resolve cannot see (DAGs, Spark jobs).
"""

from __future__ import annotations

import dataclasses

from northstar_contracts.base import Record
from northstar_contracts.warehouse import WarehousePlanReport


@dataclasses.dataclass(frozen=True, kw_only=True)
class ContractColumn(Record):
    """One column as the contract declares it and as the candidate environment builds it.

    Types are sqlglot-normalized: ``duckdb`` is what the embedded default runs; ``snowflake`` is the same declared
    type rendered for the Snowflake target (what a Snowflake build of the contract would create)."""

    name: str
    position: int  # 1-based, in the contract
    declared: str | None  # declared data_type, normalized for DuckDB (None: the contract omits it)
    actual: str | None  # type built in the candidate environment (None: the model does not produce the column)
    snowflake: str | None  # declared type rendered for Snowflake
    constraints: list[str] = dataclasses.field(default_factory=list)


@dataclasses.dataclass(frozen=True, kw_only=True)
class ContractProblem(Record):
    """A way the candidate build breaks its own contract (blocks; acknowledgements do not cover it)."""

    rule: str  # "missing_column" | "extra_column" | "type" | "order" | "not_null" | "unique" | "primary_key"
    column: str | None
    expected: str | None
    actual: str | None
    message: str


@dataclasses.dataclass(frozen=True, kw_only=True)
class BreakingChange(Record):
    """A column the target environment serves today that the candidate removes or retypes."""

    column: str
    change: str  # "removed" | "retyped"
    old_type: str
    new_type: str | None  # None when removed
    added_instead: list[str] = dataclasses.field(default_factory=list)  # new columns (a removal may be a rename)


@dataclasses.dataclass(frozen=True, kw_only=True)
class ContractModelResult(Record):
    model: str
    yaml: str  # the YAML file declaring the contract, relative to the project
    versioned: bool  # dbt model versions: consumers pin a version, so a breaking change is a new version
    status: str  # "pass" | "violation" | "breaking" | "acknowledged" | "versioned" | "new"
    summary: str
    candidate_relation: str | None
    served_relation: str | None
    columns: list[ContractColumn]
    problems: list[ContractProblem]
    breaking: list[BreakingChange]
    notes: list[str] = dataclasses.field(default_factory=list)  # non-blocking findings (integer width)


@dataclasses.dataclass(frozen=True, kw_only=True)
class WarehouseContractReport(Record):
    """``contracts --env ENV [--ack MODEL[:contract] ...]``: every model with ``contract: {enforced: true}`` is
    checked in the candidate environment (``wap_<env>``, applied like the data-quality gate's write step) against its
    contract, and compared with what ``baseline_environment`` (the target env, its live release) serves."""

    command: str = "contracts"
    ok: bool
    environment: str
    candidate_environment: str
    baseline_environment: str
    baseline_exists: bool
    models: list[ContractModelResult]
    violations: list[str]
    breaking: list[str]
    acknowledged: list[str]
    plan: WarehousePlanReport | None = None
    timings: dict[str, float] = dataclasses.field(default_factory=dict)
    error: str | None = None
