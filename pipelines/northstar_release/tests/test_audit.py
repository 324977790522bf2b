"""Pure tests of the audit hash chain (no database)."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, TypedDict

import pytest

from northstar_release.audit import (
    GENESIS,
    AuditAnchor,
    canonical_json,
    compute_hash,
    entry_hash,
    iso_utc,
    verify_chain,
)
from northstar_release.model import AuditEntry

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


class HashedFieldsBase(TypedDict):
    """The hashed ``AuditEntry`` fields other than ``at`` and ``payload`` (keyword arguments of ``compute_hash``)."""

    seq: int
    actor: str
    action: str
    release_id: str | None
    env: str | None
    prev_hash: str


class HashedFields(HashedFieldsBase):
    """Every ``AuditEntry`` field except ``hash``: exactly the keyword arguments of ``compute_hash``."""

    at: datetime
    payload: dict[str, Any]


def chain(n: int) -> list[AuditEntry]:
    entries: list[AuditEntry] = []
    prev = GENESIS
    for seq in range(1, n + 1):
        fields = HashedFields(seq=seq, at=T0 + timedelta(seconds=seq), actor="ana", action=f"a{seq}", release_id="r1",
                              env="dev", payload={"n": seq, "text": "ünïcode"}, prev_hash=prev)
        entry = AuditEntry(**fields, hash=compute_hash(**fields))
        entries.append(entry)
        prev = entry.hash
    return entries


def test_hash_is_sha256_of_canonical_json_of_all_fields_but_hash() -> None:
    entry = chain(1)[0]
    document = entry.model_dump(mode="json", exclude={"hash"})
    document["at"] = iso_utc(entry.at)
    expected = hashlib.sha256(
        json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    ).hexdigest()
    assert entry.hash == expected == entry_hash(entry)


def test_hash_ignores_timezone_spelling_and_key_order() -> None:
    base = HashedFieldsBase(seq=1, actor="a", action="b", release_id=None, env=None, prev_hash=GENESIS)
    utc = compute_hash(at=T0, payload={"a": 1, "b": 2}, **base)
    cet = compute_hash(at=T0.astimezone(timezone(timedelta(hours=2))), payload={"b": 2, "a": 1}, **base)
    naive = compute_hash(at=T0.replace(tzinfo=None), payload={"a": 1, "b": 2}, **base)
    assert utc == cet == naive


def test_canonical_json_is_compact_sorted_utf8() -> None:
    assert canonical_json({"b": 1, "a": "é"}) == '{"a":"é","b":1}'


def test_valid_chain_and_empty_chain() -> None:
    assert verify_chain(chain(5), AuditAnchor(5, chain(5)[-1].hash)).ok
    assert verify_chain([], AuditAnchor(0, GENESIS)) == verify_chain([])
    assert verify_chain([]).ok and verify_chain([]).entries_checked == 0


@pytest.mark.parametrize("field, value", [
    ("actor", "anb"), ("action", "a3x"), ("payload", {"n": 4, "text": "ünïcode"}), ("env", "prod"),
    ("release_id", None), ("at", T0), ("prev_hash", "1" * 64), ("hash", "f" * 64),
])
def test_edited_field_names_its_seq(field: str, value: object) -> None:
    entries = chain(5)
    entries[2] = entries[2].model_copy(update={field: value})
    result = verify_chain(entries)
    assert (result.ok, result.first_broken_seq, result.entries_checked) == (False, 3, 2)
    assert "seq 3" in result.problem


def test_deleted_entry() -> None:
    entries = chain(5)
    del entries[1]
    result = verify_chain(entries)
    assert (result.ok, result.first_broken_seq) == (False, 3)
    assert "seq 2 missing" in result.problem
    del entries[0]
    assert "seqs 1..2 missing" in verify_chain(entries).problem


def test_reordered_entries() -> None:
    entries = chain(5)
    entries[1], entries[2] = entries[2], entries[1]
    result = verify_chain(entries)
    assert (result.ok, result.first_broken_seq) == (False, 3)


def test_renumbered_entries_after_deletion() -> None:
    """Deleting seq 2 and renumbering 3->2 breaks the hash of the renumbered entry."""
    entries = chain(4)
    entries = [entries[0], entries[2].model_copy(update={"seq": 2}), entries[3].model_copy(update={"seq": 3})]
    assert verify_chain(entries).first_broken_seq == 2


def test_rewritten_entry_with_recomputed_hash_breaks_the_next_link() -> None:
    entries = chain(4)
    forged = entries[1].model_copy(update={"actor": "mallory"})
    entries[1] = forged.model_copy(update={"hash": entry_hash(forged)})
    result = verify_chain(entries)
    assert (result.ok, result.first_broken_seq) == (False, 3)
    assert "prev_hash" in result.problem


def test_truncated_tail_needs_the_anchor() -> None:
    full = chain(5)
    anchor = AuditAnchor(5, full[-1].hash)
    assert verify_chain(full[:3]).ok
    result = verify_chain(full[:3], anchor)
    assert (result.ok, result.first_broken_seq) == (False, 4)
    assert "truncated" in result.problem
    assert verify_chain(full, AuditAnchor(3, full[2].hash)).ok  # an older anchor is a lower bound
    assert not verify_chain(full, AuditAnchor(3, "e" * 64)).ok
    assert not verify_chain([], AuditAnchor(0, "e" * 64)).ok


def test_anchor_json_round_trip() -> None:
    anchor = AuditAnchor(7, "a" * 64)
    assert AuditAnchor.from_json(json.loads(json.dumps(anchor.to_json()))) == anchor
