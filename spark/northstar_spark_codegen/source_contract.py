"""Render ``pipelines/catalog/sources.yaml`` into ``spark/northstar_spark/source_contract.py`` (pure Python data).

Why generated and committed: job PEXes run on EMR with only pyspark available, and the ``spark`` resolve has no YAML
parser; a plain Python literal travels inside every job PEX with no extra dependency. ``--check`` (run by the test
next to this module) fails when the committed module no longer matches ``sources.yaml``, so the two cannot drift.

Usage::

    python -m northstar_spark_codegen.source_contract --sources pipelines/catalog/sources.yaml \
        --output spark/northstar_spark/source_contract.py [--check]

Exit 0 written / up to date, 1 out of date (``--check``), 2 invalid ``sources.yaml`` (the message names the file,
the key and the rule; nothing is written).
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

LOGICAL_TYPE = re.compile(r"^(bigint|int|varchar|date|timestamp|boolean|decimal\(\d+,\d+\))$")
SYSTEM_KINDS = ("postgres", "kafka", "s3")
FEED_FORMATS = ("csv", "json", "parquet")
HEADER = '''"""GENERATED from pipelines/catalog/sources.yaml by northstar_spark_codegen.source_contract -- do not edit.

Regenerate: ./pants run spark/northstar_spark_codegen/source_contract.py -- --sources pipelines/catalog/sources.yaml \\
    --output spark/northstar_spark/source_contract.py
"""

from typing import Any

'''


class ContractError(ValueError):
    """``sources.yaml`` breaks a rule; the message names file, key and rule."""


def _fail(path: Path, key: str, rule: str) -> ContractError:
    return ContractError(f"{path}: {key}: {rule}")


def load_contract(path: Path) -> dict[str, dict[str, dict[str, Any]]]:
    """Validate ``sources.yaml`` and return ``{system: {table: {kind, pk, columns, tags, topic?, prefix?, format?}}}``."""
    try:
        data = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise _fail(path, "<file>", f"cannot be read as YAML ({exc})") from exc
    systems = (data or {}).get("systems") if isinstance(data, dict) else None
    if not isinstance(systems, dict) or not systems:
        raise _fail(path, "systems", "must be a non-empty mapping")
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for system, spec in systems.items():
        kind = (spec or {}).get("kind")
        if kind not in SYSTEM_KINDS:
            raise _fail(path, f"systems.{system}.kind", f"must be one of {SYSTEM_KINDS}, got {kind!r}")
        tables = spec.get("tables")
        if not isinstance(tables, dict) or not tables:
            raise _fail(path, f"systems.{system}.tables", "must be a non-empty mapping")
        out[system] = {}
        for table, tspec in tables.items():
            key = f"systems.{system}.tables.{table}"
            columns = (tspec or {}).get("columns")
            if not isinstance(columns, dict) or not columns:
                raise _fail(path, f"{key}.columns", "must be a non-empty mapping of column -> logical type")
            for column, logical in columns.items():
                if not isinstance(logical, str) or not LOGICAL_TYPE.match(logical.replace(" ", "")):
                    raise _fail(path, f"{key}.columns.{column}", f"unknown logical type {logical!r}")
            pk = tspec.get("pk")
            pk_list = [pk] if isinstance(pk, str) else pk
            if not isinstance(pk_list, list) or not pk_list or any(c not in columns for c in pk_list):
                raise _fail(path, f"{key}.pk", f"must name columns of the table, got {pk!r}")
            entry: dict[str, Any] = {
                "kind": kind,
                "pk": list(pk_list),
                "columns": [(str(c), str(t).replace(" ", "")) for c, t in columns.items()],
                "tags": list(tspec.get("tags") or []),
            }
            if kind == "kafka":
                if not isinstance(tspec.get("topic"), str):
                    raise _fail(path, f"{key}.topic", "a kafka table needs its topic")
                entry["topic"] = tspec["topic"]
            if kind == "s3":
                if tspec.get("format") not in FEED_FORMATS or not isinstance(tspec.get("prefix"), str):
                    raise _fail(path, f"{key}.format", f"an s3 feed needs a prefix and a format in {FEED_FORMATS}")
                entry["prefix"], entry["format"] = tspec["prefix"], tspec["format"]
            out[system][str(table)] = entry
    return out


def _wrapped(items: list[str], indent: str, width: int = 116) -> list[str]:
    """Comma-separated items packed into lines of at most ``width`` characters (ruff's E501 stays quiet)."""
    lines: list[str] = []
    current = ""
    for item in items:
        candidate = f"{current} {item}," if current else f"{item},"
        if current and len(indent) + len(candidate) > width:
            lines.append(indent + current)
            candidate = f"{item},"
        current = candidate
    if current:
        lines.append(indent + current)
    return lines


def render(contract: dict[str, dict[str, dict[str, Any]]]) -> str:
    """The module text: one ``SOURCES`` literal, stable across runs (insertion order of ``sources.yaml``)."""
    lines = [HEADER + "SOURCES: dict[str, dict[str, dict[str, Any]]] = {"]
    for system, tables in contract.items():
        lines.append(f"    {system!r}: {{")
        for table, entry in tables.items():
            lines.append(f"        {table!r}: {{")
            scalars = [f"{k!r}: {v!r}" for k, v in entry.items() if k != "columns"]
            lines.extend(_wrapped(scalars, " " * 12))
            lines.append("            'columns': [")
            lines.extend(_wrapped([repr(tuple(c)) for c in entry["columns"]], " " * 16))
            lines.append("            ],")
            lines.append("        },")
        lines.append("    },")
    lines.append("}")
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="northstar_spark_codegen.source_contract", description=__doc__.splitlines()[0])
    parser.add_argument("--sources", type=Path, required=True)
    parser.add_argument("--output", type=Path, required=True)
    parser.add_argument("--check", action="store_true", help="only compare; exit 1 if the output is out of date")
    args = parser.parse_args(argv)
    try:
        text = render(load_contract(args.sources))
    except ContractError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    current = args.output.read_text() if args.output.is_file() else None
    if args.check:
        if current != text:
            print(f"{args.output} is out of date with {args.sources}: regenerate it (see its header)", file=sys.stderr)
            return 1
        return 0
    if current != text:
        args.output.write_text(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
