"""Hash-chained audit log: canonical hashing, chain verification and the head anchor.

Why a hash chain: the audit table is append-only through the API and guarded by database triggers, but a determined
database administrator can drop the triggers and rewrite rows. Each entry's ``hash`` covers every other field of the
entry *including* ``prev_hash``, so editing, deleting or reordering any entry breaks the chain at a seq that
``verify_chain`` names.

Why an anchor as well: a chain alone cannot detect a *truncated tail* (deleting the last N entries leaves a valid,
shorter chain). Every ``append_audit`` therefore also records the chain head ``(seq, hash)`` in a separate row
(``audit_head``), written in the same transaction. ``verify_chain(entries, anchor)`` requires the chain to contain the
anchored entry. An anchor kept in the same database only protects against careless or partial tampering; in
production, export the anchor (``AuditAnchor.to_json()``) after each release operation to external write-once storage
(e.g. an S3 bucket with Object Lock in compliance mode, or a WORM log service) and verify against that copy.
Anchors are lower bounds: entries appended after the anchor was taken are fine, entries missing before it are not.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic_core import to_jsonable_python

from northstar_release.model import AuditEntry

GENESIS = "0" * 64
"""``prev_hash`` of the first entry."""


def iso_utc(value: datetime) -> str:
    """The one timestamp spelling used in state and in hashes: UTC, microseconds, explicit offset.

    Why fixed: the hash is computed over this text, so the same instant must always serialise identically no matter
    which timezone the caller used. Naive datetimes are taken to be UTC.
    """
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def parse_iso(value: str) -> datetime:
    """Inverse of ``iso_utc`` (accepts any ISO-8601 string; naive values are taken to be UTC)."""
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def canonical_json(value: Any) -> str:
    """Deterministic JSON: sorted keys, no whitespace, UTF-8 kept as-is. Also the stored form of audit payloads."""
    return json.dumps(to_jsonable_python(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def normalise_payload(payload: Mapping[str, Any]) -> dict[str, Any]:
    """Make a payload plain JSON data (datetimes, enums, models -> JSON values) so hashing is stable across a DB trip."""
    normalised = json.loads(canonical_json(dict(payload)))
    assert isinstance(normalised, dict)
    return normalised


def compute_hash(
    *,
    seq: int,
    at: datetime,
    actor: str,
    action: str,
    release_id: str | None,
    env: str | None,
    payload: Mapping[str, Any],
    prev_hash: str,
) -> str:
    """sha256 hex over the canonical JSON of every ``AuditEntry`` field except ``hash``."""
    document = {
        "seq": seq,
        "at": iso_utc(at),
        "actor": actor,
        "action": action,
        "release_id": release_id,
        "env": env,
        "payload": normalise_payload(payload),
        "prev_hash": prev_hash,
    }
    missing = set(AuditEntry.model_fields) - set(document) - {"hash"}
    assert not missing, f"compute_hash does not cover AuditEntry fields {missing}"
    return hashlib.sha256(canonical_json(document).encode("utf-8")).hexdigest()


def entry_hash(entry: AuditEntry) -> str:
    """The hash ``entry`` should carry given its other fields."""
    return compute_hash(
        seq=entry.seq,
        at=entry.at,
        actor=entry.actor,
        action=entry.action,
        release_id=entry.release_id,
        env=entry.env,
        payload=entry.payload,
        prev_hash=entry.prev_hash,
    )


@dataclass(frozen=True)
class AuditAnchor:
    """The chain head at some moment: ``seq`` (0 for an empty log) and its ``hash`` (GENESIS for an empty log)."""

    seq: int
    hash: str

    def to_json(self) -> dict[str, Any]:
        return {"seq": self.seq, "hash": self.hash}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> AuditAnchor:
        return cls(seq=int(data["seq"]), hash=str(data["hash"]))


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    entries_checked: int
    first_broken_seq: int | None
    problem: str
    scope: str = "chain"  # "chain": the log itself; "state": the tables disagree with an intact log (reconcile.py)


def verify_chain(entries: Iterable[AuditEntry], anchor: AuditAnchor | None = None, *,
                 trusted_prefix: int = 0) -> VerifyResult:
    """Check ``entries`` (expected in seq order, starting at 1) form an unbroken chain, and contain ``anchor``.

    Detects an edited field (hash mismatch at that seq), a deleted entry (seq gap), reordering (seq out of order or
    hash mismatch), an entry rewritten together with its hash (the next entry's ``prev_hash`` no longer matches) and,
    with an anchor, a truncated tail. Stops at the first problem; ``entries_checked`` counts entries that verified.

    ``trusted_prefix``: the first N entries are byte-identical to entries this process already verified as an intact
    chain (``state.audit_memo``), so their hashes are not recomputed; their order and links are still checked.
    """
    expected_seq = 1
    prev_hash = GENESIS
    checked = 0
    hashes: dict[int, str] = {}
    for entry in entries:
        if entry.seq != expected_seq:
            if entry.seq > expected_seq:
                missing = (
                    f"seq {expected_seq}" if entry.seq == expected_seq + 1 else f"seqs {expected_seq}..{entry.seq - 1}"
                )
                problem = f"entry {missing} missing before seq {entry.seq} (deleted entries)"
            else:
                problem = f"seq {entry.seq} appears after seq {expected_seq - 1} (entries reordered or duplicated)"
            return VerifyResult(False, checked, entry.seq, problem)
        actual = entry.hash if checked < trusted_prefix else entry_hash(entry)
        if actual != entry.hash:
            return VerifyResult(
                False,
                checked,
                entry.seq,
                f"seq {entry.seq}: stored hash {entry.hash[:12]}... does not match its content ({actual[:12]}...); "
                "the entry was edited",
            )
        if entry.prev_hash != prev_hash:
            return VerifyResult(
                False,
                checked,
                entry.seq,
                f"seq {entry.seq}: prev_hash {entry.prev_hash[:12]}... does not match the hash of seq {entry.seq - 1} "
                f"({prev_hash[:12]}...); the previous entry was rewritten or removed",
            )
        hashes[entry.seq] = entry.hash
        prev_hash = entry.hash
        expected_seq += 1
        checked += 1

    if anchor is not None and anchor.seq > 0:
        last = expected_seq - 1
        if anchor.seq > last:
            return VerifyResult(
                False,
                checked,
                last + 1,
                f"chain ends at seq {last} but the anchor records head seq {anchor.seq}; the tail was truncated",
            )
        if hashes[anchor.seq] != anchor.hash:
            return VerifyResult(
                False,
                checked,
                anchor.seq,
                f"seq {anchor.seq}: hash {hashes[anchor.seq][:12]}... differs from the anchored "
                f"{anchor.hash[:12]}...; the chain was rewritten",
            )
    elif anchor is not None and anchor.hash != GENESIS:
        return VerifyResult(False, checked, None, "anchor for an empty log must carry the GENESIS hash")
    return VerifyResult(True, checked, None, "")
