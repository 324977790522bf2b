"""What a dbt project's enforced contracts declare: columns, data types (normalized with sqlglot for DuckDB and
Snowflake), constraints, model versions.

Why read the YAML ourselves: SQLMesh ignores dbt contracts (a retyped or extra column is accepted silently, see
docs/release.md "Gates"), so the declarations never reach its models. The YAML is the contract; this module turns it
into plain data the ``contracts`` command checks the built relations against.

Types: dbt compares the *database's* type names, so both sides are parsed by sqlglot as DuckDB types and compared
in their canonical DuckDB spelling (``integer`` == ``INT`` == ``int4``; ``decimal(18,2)`` != ``decimal(38,2)``). The
declared type is also rendered for Snowflake (``decimal(18,2)`` -> ``DECIMAL(18, 2)``, ``hugeint`` -> ``INT128``)
so the evidence shows what the same contract means on the cloud target.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml  # type: ignore[import-untyped]  # pants: no-infer-dep (installed by dbt-core, see dbt/BUILD)

# Constraint types dbt enforces on DuckDB (checked on the built rows here, since SQLMesh creates no constraint).
ENFORCED_CONSTRAINTS = ("not_null", "unique", "primary_key")


@dataclass(frozen=True)
class DeclaredColumn:
    name: str
    data_type: str | None
    constraints: tuple[str, ...] = ()


@dataclass(frozen=True)
class ContractSpec:
    model: str
    yaml: str  # relative to the project
    versioned: bool
    columns: tuple[DeclaredColumn, ...]
    model_constraints: tuple[tuple[str, tuple[str, ...]], ...] = field(default=())  # (type, columns)


def normalize_type(text: str | None, dialect: str = "duckdb") -> str | None:
    """A type in its canonical spelling for ``dialect`` (parsed as a DuckDB type); unparsable text is kept upper-cased."""
    if text is None or not str(text).strip():
        return None
    from sqlglot import exp  # pants: no-infer-dep (installed by sqlmesh in the dbt resolve)
    from sqlglot.errors import ParseError  # pants: no-infer-dep

    try:
        return exp.DataType.build(str(text), dialect="duckdb").sql(dialect=dialect).upper()
    except (ParseError, ValueError):
        return str(text).strip().upper()


def integer_width_only(declared: str, built: str) -> bool:
    """Both are exact integer types that differ only in width (e.g. declared HUGEINT, built BIGINT).

    Why this is not a violation: SQLMesh creates each physical table with the column types sqlglot infers for the
    query (``SUM(INT)`` -> BIGINT) where DuckDB's own result type (what dbt would create) is HUGEINT; the values are
    the same exact integers, and on Snowflake both are NUMBER(38,0). Reported as a note, never silently dropped."""
    from sqlglot import exp  # pants: no-infer-dep (installed by sqlmesh in the dbt resolve)

    try:
        a = exp.DataType.build(declared, dialect="duckdb")
        b = exp.DataType.build(built, dialect="duckdb")
    except (ValueError, Exception):  # noqa: BLE001 - unparsable types are compared as text by the caller
        return False
    return a.this in exp.DataType.INTEGER_TYPES and b.this in exp.DataType.INTEGER_TYPES


def _enforced(config: Any) -> bool:
    contract = (config or {}).get("contract") if isinstance(config, dict) else None
    return isinstance(contract, dict) and contract.get("enforced") is True


def _constraint_types(raw: Any) -> tuple[str, ...]:
    out = []
    for item in raw or []:
        kind = item.get("type") if isinstance(item, dict) else None
        if isinstance(kind, str):
            out.append(kind)
    return tuple(out)


def _spec(entry: dict[str, Any], rel: str) -> ContractSpec:
    columns = tuple(DeclaredColumn(name=str(c.get("name")), data_type=c.get("data_type"),
                                   constraints=_constraint_types(c.get("constraints")))
                    for c in entry.get("columns") or [] if isinstance(c, dict) and c.get("name"))
    model_constraints = tuple((str(c.get("type")), tuple(str(x) for x in c.get("columns") or []))
                              for c in entry.get("constraints") or [] if isinstance(c, dict) and c.get("type"))
    return ContractSpec(model=str(entry["name"]), yaml=rel, versioned=bool(entry.get("versions")), columns=columns,
                        model_constraints=model_constraints)


def enforced_contracts(project: Path) -> list[ContractSpec]:
    """Every model of ``project/models`` whose YAML sets ``config: {contract: {enforced: true}}``, sorted by name.

    A versioned model (``versions:``) is listed with ``versioned=True``; its contract is the model entry's."""
    specs: dict[str, ContractSpec] = {}
    for path in sorted((project / "models").rglob("*.yml")) + sorted((project / "models").rglob("*.yaml")):
        doc = yaml.safe_load(path.read_text()) or {}
        for entry in doc.get("models") or [] if isinstance(doc, dict) else []:
            if isinstance(entry, dict) and entry.get("name") and _enforced(entry.get("config")):
                spec = _spec(entry, str(path.relative_to(project)))
                specs[spec.model] = spec
    return [specs[name] for name in sorted(specs)]
