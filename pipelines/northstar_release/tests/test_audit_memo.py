"""A store object remembers what it parsed and verified of the audit chain (``state.audit_memo``): later calls skip
only rows identical to ones already verified, and tampering done between two calls is reported exactly as a fresh
process would report it. Against SQLite and a real PostgreSQL server (fixtures in conftest)."""

from __future__ import annotations

from pathlib import Path

import pytest

from northstar_release import audit
from northstar_release.audit import verify_chain
from northstar_release.model import AuditEntry
from northstar_release.state import open_store
from northstar_release.state.reconcile import vouched_approvals
from northstar_release.tests.test_state_reconcile import RELEASE, approve, lifecycle
from northstar_release.tests.test_state_store import append_n, drop_guards, raw_sql


def counting_hashes(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Count the hashes ``verify_chain`` recomputes (the expensive part of a verification)."""
    calls: list[int] = []
    real = audit.entry_hash

    def counted(entry: AuditEntry) -> str:
        calls.append(entry.seq)
        return real(entry)

    monkeypatch.setattr(audit, "entry_hash", counted)
    return calls


def test_a_second_verification_hashes_only_the_new_entries(store, monkeypatch: pytest.MonkeyPatch) -> None:
    append_n(store, 5)
    calls = counting_hashes(monkeypatch)
    entries, result = store.verified_audit_entries()
    assert result.ok and len(entries) == 5 and calls == [1, 2, 3, 4, 5]
    calls.clear()
    append_n(store, 2)
    entries, result = store.verified_audit_entries()
    assert result.ok and [e.seq for e in entries] == [1, 2, 3, 4, 5, 6, 7] and calls == [6, 7]
    calls.clear()
    assert store.verified_audit_entries()[1].ok and calls == []
    assert store.audit_entries() == entries  # the plain read is the same list of entries


TAMPERING = {
    "one byte of a payload": ["UPDATE audit SET payload = replace(payload, '\"i\":1', '\"i\":2') WHERE seq = 2"],
    "the actor of the newest entry": ["UPDATE audit SET actor = 'mallory' WHERE seq = 4"],
    "a deleted entry": ["DELETE FROM audit WHERE seq = 3"],
    "a truncated tail": ["DELETE FROM audit WHERE seq = 4"],
    "a rewritten anchor": ["UPDATE audit_head SET hash = (SELECT hash FROM audit WHERE seq = 3)"],
}


@pytest.mark.parametrize("what", sorted(TAMPERING))
def test_tampering_between_two_calls_is_reported_as_a_fresh_process_would(store, store_url: str, tmp_path: Path,
                                                                           what: str) -> None:
    append_n(store, 4)
    assert store.verified_audit_entries()[1].ok  # everything verified and remembered
    raw_sql(store_url, [*drop_guards(store_url), *TAMPERING[what]])
    remembered_entries, remembered = store.verified_audit_entries()
    fresh = open_store(store_url, tmp_path / "fresh")
    try:
        fresh_entries = fresh.audit_entries()
        expected = verify_chain(fresh_entries, fresh.audit_anchor())
    finally:
        fresh.close()
    assert not remembered.ok, what
    assert remembered == expected
    assert remembered_entries == fresh_entries


def test_an_entry_rewritten_with_its_hash_recomputed_breaks_the_next_link(store, store_url: str) -> None:
    append_n(store, 3)
    assert store.verified_audit_entries()[1].ok
    forged = store.audit_entries()[1].model_copy(update={"actor": "mallory"})
    raw_sql(store_url, [*drop_guards(store_url),
                        f"UPDATE audit SET actor = 'mallory', hash = '{audit.entry_hash(forged)}' WHERE seq = 2"])
    _, result = store.verified_audit_entries()
    assert not result.ok and result.first_broken_seq == 3 and "prev_hash" in result.problem


def test_a_broken_chain_is_not_remembered_as_verified(store, store_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    append_n(store, 3)
    raw_sql(store_url, [*drop_guards(store_url), "UPDATE audit SET actor = 'mallory' WHERE seq = 3"])
    assert not store.verified_audit_entries()[1].ok
    calls = counting_hashes(monkeypatch)
    assert not store.verified_audit_entries()[1].ok
    assert calls == [1, 2, 3]  # verified from GENESIS again, not from where the broken call stopped


def test_vouched_approvals_twice_in_one_process_still_sees_a_forgery_in_between(store, store_url: str) -> None:
    lifecycle(store)
    assert not vouched_approvals(store, RELEASE.id, "prod").problems
    approve(store, "cy@northstar.example")
    raw_sql(store_url, [*drop_guards(store_url), "UPDATE audit SET payload = replace(payload, 'lgtm', 'LGTM') "
                        "WHERE action = 'approval.add' AND actor = 'bo@northstar.example'"])
    evidence = vouched_approvals(store, RELEASE.id, "prod")
    assert evidence.approvals == () and evidence.problems
    assert "the audit chain is broken at seq 2" in evidence.problems[0]


def test_an_entry_appended_by_another_process_between_the_two_reads_is_not_a_truncation(
        store, store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The rows and the anchor are two reads; whichever comes second, another process appends right before it."""
    append_n(store, 2)
    other = open_store(store_url, tmp_path / "other")
    reads: list[str] = []

    def second_read_after_an_append(name: str, real):  # noqa: ANN001, ANN202 - a thin spy
        def read(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
            reads.append(name)
            if len(reads) == 2:
                append_n(other, 1, env="staging")
            return real(*args, **kwargs)
        return read

    monkeypatch.setattr(store, "audit_anchor", second_read_after_an_append("anchor", store.audit_anchor))
    monkeypatch.setattr(store, "_audit_rows", second_read_after_an_append("rows", store._audit_rows))  # noqa: SLF001
    try:
        entries, result = store.verified_audit_entries()
    finally:
        other.close()
    assert reads == ["anchor", "rows"]
    assert result.ok, result.problem
    assert len(entries) == 3
