"""The state-store protocol the engine writes through.

Why transactions are explicit: every state change and the audit entry that records it must land together or not at
all (a SIGKILL between the two would otherwise leave an unaudited change). Callers write

    with store.transaction() as tx:
        dep = tx.start_deployment(...)
        tx.append_audit(actor, "deploy.start", release_id, env, {...})

and both rows commit atomically. Reads may happen outside a transaction.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from northstar_release.audit import AuditAnchor, VerifyResult
from northstar_release.model import (
    Approval,
    AuditEntry,
    Deployment,
    DeploymentStatus,
    GateResult,
    Release,
)


class StateError(Exception):
    """State is unusable (cannot connect, schema mismatch); exit code 2."""


class LockHeld(Exception):
    """Another operation holds the environment's lock; exit code 3. ``holder`` says who (pid, command, since)."""

    def __init__(self, env: str, holder: str) -> None:
        super().__init__(f"environment '{env}' is locked by another operation: {holder}")
        self.env = env
        self.holder = holder


class Transaction(Protocol):
    def save_release(self, release: Release) -> bool:
        """Insert the release; False (and no change) when a release with that id already exists."""
        ...

    def start_deployment(self, deployment: Deployment) -> Deployment:
        """Insert and return it with its id set."""
        ...

    def update_deployment(
        self,
        deployment_id: int,
        *,
        status: DeploymentStatus | None = None,
        stage: tuple[str, datetime] | None = None,
        finished_at: datetime | None = None,
        reason: str | None = None,
    ) -> Deployment: ...

    def add_gate_results(self, deployment_id: int, results: list[GateResult]) -> None: ...

    def add_approval(self, approval: Approval) -> bool:
        """False (no change) when the same approver already approved this release for this env."""
        ...

    def set_live(self, env: str, kind: str, name: str, sha256: str, release_id: str) -> None:
        """Record which digest of one artifact is live in an env (the env's pointer per artifact)."""
        ...

    def append_audit(
        self, actor: str, action: str, release_id: str | None, env: str | None, payload: dict[str, Any]
    ) -> AuditEntry:
        """Append one hash-chained entry (seq = last + 1, prev_hash = last hash, or 64 zeros for the first)."""
        ...


class StateStore(Protocol):
    url: str

    def transaction(self) -> AbstractContextManager[Transaction]: ...

    def env_lock(self, env: str, *, wait: bool = False, timeout_s: float = 600.0) -> AbstractContextManager[None]:
        """Exclusive per-environment lock; raises LockHeld at once unless ``wait``."""
        ...

    def get_release(self, release_id: str) -> Release | None: ...

    def list_releases(self) -> list[Release]: ...

    def deployments(self, env: str | None = None, release_id: str | None = None) -> list[Deployment]:
        """Newest first."""
        ...

    def gate_results(self, deployment_id: int) -> list[GateResult]: ...

    def approvals(self, release_id: str, env: str) -> list[Approval]: ...

    def live(self, env: str) -> dict[tuple[str, str], tuple[str, str]]:
        """(kind, name) -> (sha256, release_id) currently live in the env."""
        ...

    def audit_entries(self) -> list[AuditEntry]:
        """In seq order, exactly as stored (verification must see tampering, so no normalisation here)."""
        ...

    def verified_audit_entries(self) -> tuple[list[AuditEntry], VerifyResult]:
        """``audit_entries()`` and ``audit.verify_chain`` of them against ``audit_anchor()``, both read now. Within one
        store object, hashes of rows identical to ones it already verified are not recomputed (``audit_memo``)."""
        ...

    def audit_entries_of(self, release_id: str) -> list[AuditEntry]:
        """One release's entries, in seq order, exactly as stored: what a promotion needs to point at the evidence of
        that release (its ``*.succeeded`` entries) without reading and re-serialising the whole chain, which grows
        with every deployment."""
        ...

    def chained_rows(self) -> dict[str, list[dict[str, Any]]]:
        """Rows of the tables the audit chain vouches for (approvals, deployments, live), as stored; see reconcile.py."""
        ...

    def audit_anchor(self) -> AuditAnchor | None:
        """The in-database head anchor (seq, hash of the last entry); None if the anchor row is missing (tampering)."""
        ...

    def close(self) -> None:
        """Release the store's connection; the store reconnects if used again."""
        ...

    def local_dir(self) -> Path | None:
        """The local state dir the store's file lives in (SQLite), where the env folders are laid out beside it;
        None for a server-side store (PostgreSQL), which has no local folder."""
        ...
