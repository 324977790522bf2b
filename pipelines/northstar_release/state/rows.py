"""Row <-> model conversion for the SQL state store (deployments and audit entries as stored).

Why separate: both the transaction (write side) and the store (read side) rebuild models from rows, and the audit
conversion must keep tampered payloads visible (``RAW_PAYLOAD_KEY``) rather than normalise them away.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from enum import Enum
from typing import Any

from northstar_release.audit import canonical_json, parse_iso
from northstar_release.model import AuditEntry, Deployment, DeploymentStatus
from northstar_release.state.base import StateError
from northstar_release.state.schema import RAW_PAYLOAD_KEY

DEPLOYMENT_COLUMNS = "id, release_id, env, status, actor, action, started_at, finished_at, stages, reason"


def enum_value(value: Any) -> Any:
    """Accept an enum member (a str enum) or a plain string; store the plain value."""
    if isinstance(value, Enum):
        return value.value
    return str(value) if isinstance(value, str) else value  # ArtifactKind is a str subclass: store a plain str


def deployment_from_row(row: Sequence[Any]) -> Deployment:
    return Deployment(
        id=int(row[0]),
        release_id=row[1],
        env=row[2],
        status=DeploymentStatus(row[3]),
        actor=row[4],
        action=row[5],
        started_at=parse_iso(row[6]),
        finished_at=parse_iso(row[7]) if row[7] else None,
        stages=json.loads(row[8]),
        reason=row[9],
    )


def audit_from_row(row: Sequence[Any]) -> AuditEntry:
    """Build an entry from a stored row without normalising anything that verification needs to see."""
    raw_payload = str(row[6])
    try:
        payload = json.loads(raw_payload)
        if not isinstance(payload, dict) or canonical_json(payload) != raw_payload:
            payload = {RAW_PAYLOAD_KEY: raw_payload}
    except ValueError:
        payload = {RAW_PAYLOAD_KEY: raw_payload}
    try:
        at = parse_iso(row[1])
    except ValueError as exc:
        raise StateError(f"audit seq {row[0]}: stored timestamp {row[1]!r} is not ISO-8601 (tampered?)") from exc
    return AuditEntry(
        seq=int(row[0]),
        at=at,
        actor=row[2],
        action=row[3],
        release_id=row[4],
        env=row[5],
        payload=payload,
        prev_hash=row[7],
        hash=row[8],
    )
