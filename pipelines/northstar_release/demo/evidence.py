"""Read the evidence the demo checks out of the CLI's JSON documents (no parsing of human messages)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


# ------------------------------------------------------------------------------------------ evidence extraction ---
def find_values(obj: Any, key: str) -> list[Any]:
    """Every value stored under ``key`` anywhere in a JSON document."""
    found: list[Any] = []
    if isinstance(obj, dict):
        for k, v in obj.items():
            if k == key:
                found.append(v)
            found += find_values(v, key)
    elif isinstance(obj, list):
        for v in obj:
            found += find_values(v, key)
    return found


def rows_recomputed(doc: Any) -> int | None:
    """Sum of every integer ``rows_recomputed`` in a document; None when the document carries no such evidence."""
    values = [v for v in find_values(doc, "rows_recomputed") if isinstance(v, int) and not isinstance(v, bool)]
    return sum(values) if values else None


def deployment_audit_entries(export_doc: Mapping[str, Any], deployment_id: int | None) -> list[dict[str, Any]]:
    return [e for e in export_doc.get("audit_entries", [])
            if deployment_id is not None and (e.get("payload") or {}).get("deployment_id") == deployment_id]


def failed_gates(doc: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [g for g in doc.get("gate_results") or [] if g.get("outcome") == "failed"]


def gate_line(g: Mapping[str, Any]) -> str:
    return f"{g.get('gate')} [{g.get('target')}]: {g.get('summary')}"


def table_fingerprints(payload: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Normalise the warehouse entry point's ``tables`` answer to {table: {"rows": n, "checksum": s}}.

    Accepts ``{"tables": {name: {...}}}`` or ``{"tables": [{"name"|"table": ..., ...}]}``; the checksum key may be
    ``checksum`` or ``sha256``, the row count ``rows`` or ``row_count``.
    """
    tables = payload.get("tables")
    items: list[tuple[str, Mapping[str, Any]]] = []
    if isinstance(tables, dict):
        items = [(str(k), v) for k, v in tables.items() if isinstance(v, Mapping)]
    elif isinstance(tables, list):
        items = [(str(t.get("name") or t.get("table")), t) for t in tables if isinstance(t, Mapping)]
    out = {}
    for name, t in items:
        rows = t.get("rows", t.get("row_count"))
        checksum = t.get("checksum", t.get("sha256"))
        out[name] = {"rows": rows, "checksum": checksum}
    return dict(sorted(out.items()))


def fingerprints_line(fp: Mapping[str, Mapping[str, Any]]) -> str:
    return ", ".join(f"{name}: {t['rows']} rows #{str(t['checksum'])[:10]}" for name, t in fp.items()) or "no tables"
