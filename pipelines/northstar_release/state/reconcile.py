"""Reconcile the approvals, deployments and live-pointer tables with the audit hash chain.

Why: the chain makes the *log* tamper-evident, but decisions are taken from the tables (promotion counts the rows of
``approvals``; rollback reads ``deployments`` and ``live``). A row inserted, deleted or altered directly in the
database would otherwise pass ``audit verify`` and satisfy the approval check. Every write to those tables through the
state API puts an image of the row into the payload of an audit entry of the same transaction (``sql.STATE_ROWS_KEY``).
Replaying those images in seq order gives the tables the chain vouches for; any difference with the stored tables is
reported, naming the table, the row and the seq of the entry that vouches for it.

The check only means something on a chain that verifies, so ``verify_state`` verifies the chain first, and
``vouched_approvals`` refuses to vouch for anything when it does not.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from northstar_release.audit import AuditAnchor, VerifyResult, parse_iso, verify_chain
from northstar_release.model import Approval, AuditEntry, Environment
from northstar_release.state.sql import CHAINED_COLUMNS, CHAINED_KEYS, STATE_ROWS_KEY

if TYPE_CHECKING:
    from northstar_release.state.base import StateStore

RowKey = tuple[Any, ...]


@dataclass(frozen=True)
class Vouched:
    """One row as the chain last recorded it, the seq of that entry and the entry's payload (e.g. its identity)."""

    row: dict[str, Any]
    seq: int
    payload: Mapping[str, Any]


@dataclass(frozen=True)
class Discrepancy:
    table: str
    key: RowKey
    seq: int | None  # the vouching entry; None for a row the chain never saw
    problem: str


def _key(table: str, row: Mapping[str, Any]) -> RowKey:
    return tuple(row.get(column) for column in CHAINED_KEYS[table])


def _describe(table: str, key: RowKey) -> str:
    return f"{table} row ({', '.join(f'{c}={v!r}' for c, v in zip(CHAINED_KEYS[table], key, strict=True))})"


def replay(entries: Iterable[AuditEntry]) -> dict[str, dict[RowKey, Vouched]]:
    """The chained tables as the audit entries' row images describe them (latest image of each row wins)."""
    tables: dict[str, dict[RowKey, Vouched]] = {table: {} for table in CHAINED_COLUMNS}
    for entry in entries:
        images = entry.payload.get(STATE_ROWS_KEY)
        if not isinstance(images, list):
            continue
        for image in images:
            if not isinstance(image, dict) or image.get("table") not in tables or not isinstance(image.get("row"), dict):
                continue
            table, row = str(image["table"]), dict(image["row"])
            tables[table][_key(table, row)] = Vouched(row=row, seq=entry.seq, payload=entry.payload)
    return tables


def compare(vouched: Mapping[str, Mapping[RowKey, Vouched]],
            stored: Mapping[str, list[dict[str, Any]]]) -> list[Discrepancy]:
    """Rows the chain does not vouch for, rows it vouches for that are gone, and rows that differ from their image."""
    problems: list[Discrepancy] = []
    for table in CHAINED_COLUMNS:
        expected = vouched.get(table, {})
        seen: set[RowKey] = set()
        for row in stored.get(table, []):
            key = _key(table, row)
            seen.add(key)
            image = expected.get(key)
            if image is None:
                problems.append(Discrepancy(table, key, None, f"{_describe(table, key)} is not vouched for by the "
                                            "audit chain (written outside the release system)"))
                continue
            changed = [c for c in CHAINED_COLUMNS[table] if row.get(c) != image.row.get(c)]
            if changed:
                detail = "; ".join(f"{c} stored {row.get(c)!r}, chain says {image.row.get(c)!r}" for c in changed)
                problems.append(Discrepancy(table, key, image.seq, f"{_describe(table, key)} differs from the audit "
                                            f"chain (seq {image.seq}): {detail}"))
        for key, image in expected.items():
            if key not in seen:
                problems.append(Discrepancy(table, key, image.seq, f"{_describe(table, key)} is recorded in the audit "
                                            f"chain (seq {image.seq}) but missing from the table (deleted)"))
    return problems


def reconcile(store: StateStore, entries: list[AuditEntry] | None = None) -> list[Discrepancy]:
    """Differences between ``store``'s chained tables and its audit chain (empty when they agree)."""
    chain = store.audit_entries() if entries is None else entries
    return compare(replay(chain), store.chained_rows())


def verify_state(store: StateStore, external_anchor: AuditAnchor | None = None) -> VerifyResult:
    """``audit verify``: the chain (against the stored anchor and, when given, an exported one), then the tables.

    ``first_broken_seq`` is the lowest seq a table discrepancy points at (None when only unvouched rows were found)."""
    entries, result = store.verified_audit_entries()
    if result.ok and external_anchor is not None:
        result = verify_chain(entries, external_anchor)
    if not result.ok:
        return result
    problems = reconcile(store, entries)
    if not problems:
        return result
    seqs = [p.seq for p in problems if p.seq is not None]
    text = f"state tables disagree with the audit chain ({len(problems)} row(s)): " + " | ".join(
        p.problem for p in problems)
    return VerifyResult(False, result.entries_checked, min(seqs) if seqs else None, text, scope="state")


@dataclass(frozen=True)
class ApprovalEvidence:
    """The approvals of one (release, env) the chain vouches for, with each one's identity record (if any), and the
    reasons any stored approval row cannot be trusted."""

    approvals: tuple[Approval, ...]
    identities: Mapping[str, Mapping[str, Any] | None]  # approver -> the identity record of its audit entry
    problems: tuple[str, ...]


def vouched_approvals(store: StateStore, release_id: str, env: str) -> ApprovalEvidence:
    """Approvals for promotion decisions: only rows the verified chain vouches for, unchanged.

    A forged row (inserted, or altered, directly in the database) is not counted and is named in ``problems``; so is
    every row when the chain itself does not verify (nothing in it can vouch for anything then)."""
    entries, chain = store.verified_audit_entries()
    rows = [r for r in store.chained_rows()["approvals"] if r["release_id"] == release_id and r["env"] == env]
    if not chain.ok:
        return ApprovalEvidence((), {}, (f"no approval can be trusted: the audit chain is broken at seq "
                                         f"{chain.first_broken_seq}: {chain.problem}",))
    images = replay(entries)["approvals"]
    counted: list[Approval] = []
    identities: dict[str, Mapping[str, Any] | None] = {}
    problems: list[str] = []
    for row in rows:
        key = _key("approvals", row)
        image = images.get(key)
        if image is None or image.row != row:
            why = "is not in the audit chain" if image is None else f"differs from audit seq {image.seq}"
            problems.append(f"approval of {release_id} for {env} by {row['approver']} {why}: forged or altered "
                            "directly in the database; it is not counted (run ./release audit verify)")
            continue
        counted.append(Approval(release_id=row["release_id"], env=row["env"], approver=row["approver"],
                                at=parse_iso(row["at"]), comment=row["comment"]))
        identity = image.payload.get("identity")
        identities[row["approver"]] = identity if isinstance(identity, Mapping) else None
    return ApprovalEvidence(tuple(counted), identities, tuple(problems))


def countable_approvals(store: StateStore, release_id: str, env: Environment) -> tuple[list[Approval], list[str], list[str]]:
    """The approvals promotion may count for ``env``, the blocking reasons, and notes on
    approvals left out (to show when too few remain).

    Forged rows always block (a tampered approvals table is not a state to promote from). In an environment with
    ``require_verified_identity`` an approval whose audit entry carries no verified identity is not counted; it is
    named only when that leaves too few approvals (policy.evaluate_approvals then blocks)."""
    evidence = vouched_approvals(store, release_id, env.name)
    if not env.require_verified_identity:
        return list(evidence.approvals), list(evidence.problems), []
    counted, notes = [], []
    for approval in evidence.approvals:
        identity = evidence.identities.get(approval.approver)
        if identity is not None and identity.get("verified") is True:
            counted.append(approval)
        else:
            notes.append(f"approval by {approval.approver} not counted: {env.name} requires a CI-verified identity "
                         "and this approval was self-asserted (--as)")
    return counted, list(evidence.problems), notes
