"""Read the evidence the demo checks out of the CLI's JSON documents: one field per fact, no human messages.

Where each fact lives (and nowhere else is looked at):
* rows recomputed: ``switches[]`` of a deploy / promote / rollback document, the warehouse kind's
  ``evidence.rows_recomputed`` (the ``warehouse plan`` record's ``rows_recomputed``, copied by the adapter);
* prod's tables: ``tables`` of ``./release tables --json``, each a ``northstar_contracts.warehouse.TableFingerprint``
  (parsed strictly: a renamed field is an error, not a silent ``None``);
* failed data tests: the ``warehouse_audit`` gate result's ``evidence.audits.failed``;
* clock overrides: ``payload.clock.override`` of every ``*.start`` audit entry.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from northstar_contracts.base import ContractError
from northstar_contracts.warehouse import TableFingerprint
from northstar_release.demo.errors import StepFailed
from northstar_release.model import ArtifactKind

WAREHOUSE_GATE = "warehouse_audit"


def rows_recomputed(doc: Mapping[str, Any]) -> int | None:
    """Rows recomputed by the warehouse switches of one deploy/promote/rollback document.

    None when the document has no warehouse switch (no warehouse evidence). A switch that changed nothing (the
    project was already live) recomputed 0 rows; a switch that changed the env must report ``rows_recomputed``.
    """
    switches = [s for s in doc.get("switches") or [] if s["kind"] == ArtifactKind.WAREHOUSE_PROJECT.value]
    if not switches:
        return None
    total = 0
    for switch in switches:
        if not switch["changed"]:
            continue
        rows = switch["evidence"]["rows_recomputed"] if "rows_recomputed" in switch["evidence"] else None
        if not isinstance(rows, int) or isinstance(rows, bool):
            return None
        total += rows
    return total


def failed_gates(doc: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [g for g in doc.get("gate_results") or [] if g["outcome"] == "failed"]


def gate_line(g: Mapping[str, Any]) -> str:
    return f"{g['gate']} [{g['target']}]: {g['summary']}"


def failed_audits(gate: Mapping[str, Any]) -> list[str]:
    """The failed SQLMesh audits (``audit on model``) a ``warehouse_audit`` gate result names; [] for other gates."""
    evidence = gate["evidence"]
    if gate["gate"] != WAREHOUSE_GATE or "audits" not in evidence:  # e.g. the check could not run at all
        return []
    return [str(name) for name in evidence["audits"]["failed"]]


def clock_overrides(export_doc: Mapping[str, Any]) -> set[str | None]:
    """The ``NORTHSTAR_NOW`` override every deployment start recorded in an ``audit export`` document."""
    return {e["payload"]["clock"]["override"] for e in export_doc["audit_entries"] if e["action"].endswith(".start")}


def deployment_starts(export_doc: Mapping[str, Any]) -> int:
    return sum(1 for e in export_doc["audit_entries"] if e["action"].endswith(".start"))


def table_fingerprints(doc: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """``./release tables --json`` -> {table: {"rows": n, "checksum": s}}, sorted by table name.

    Each table is parsed as the warehouse entry point's ``TableFingerprint`` record: a document that does not match
    (a renamed or missing field) fails the step with the field named, instead of comparing ``None`` with ``None``.
    """
    out = {}
    for name, data in doc["tables"].items():
        try:
            table = TableFingerprint.parse(data)
        except ContractError as exc:
            raise StepFailed(f"./release tables: table {name}: {exc}") from None
        out[str(name)] = {"rows": table.rows, "checksum": table.checksum}
    return dict(sorted(out.items()))


def fingerprints_line(fp: Mapping[str, Mapping[str, Any]]) -> str:
    return ", ".join(f"{name}: {t['rows']} rows #{str(t['checksum'])[:10]}" for name, t in fp.items()) or "no tables"
