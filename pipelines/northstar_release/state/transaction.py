"""The write side of the SQL state store: one open database transaction, with row images chained into the audit log.

Why separate from the store: the transaction is where every state change meets the audit chain (``STATE_ROWS_KEY``);
the store only manages connections, migration and reads.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from northstar_release.audit import canonical_json, compute_hash, iso_utc, normalise_payload, parse_iso
from northstar_release.model import Approval, AuditEntry, Deployment, DeploymentStatus, GateResult, Release
from northstar_release.state.base import StateError
from northstar_release.state.rows import DEPLOYMENT_COLUMNS, deployment_from_row, enum_value
from northstar_release.state.schema import CHAINED_COLUMNS, CHAINED_KEYS, STATE_ROWS_KEY, SYSTEM_ACTOR

if TYPE_CHECKING:
    from northstar_release.state.sql import SqlStateStore


class SqlTransaction:
    """The write side of the protocol (``base.Transaction``), bound to one open database transaction."""

    def __init__(self, store: SqlStateStore, conn: Any) -> None:
        self._store = store
        self._conn = conn
        # Row images written since the last audit entry of this transaction. Why: the hash chain must vouch for the
        # approvals, deployments and live pointers, not only for the log. Each image rides in the payload of the next
        # audit entry the transaction appends (the engine appends one with every state change), so audit actions and
        # counts stay as they are; images still pending at commit get a ``state.sync`` entry of their own.
        self._pending: list[dict[str, Any]] = []

    def _image(self, table: str, key: Sequence[Any]) -> None:
        columns = CHAINED_COLUMNS[table]
        where = " AND ".join(f"{c} = ?" for c in CHAINED_KEYS[table])
        row = self._execute(f"SELECT {', '.join(columns)} FROM {table} WHERE {where}", key).fetchone()
        self._pending.append({"table": table, "row": dict(zip(columns, row, strict=True))})

    def flush_state_rows(self) -> None:
        """Chain row images no audit entry has carried yet (called just before COMMIT)."""
        if self._pending:
            self.append_audit(SYSTEM_ACTOR, "state.sync", None, None, {})

    def _execute(self, statement: str, params: Sequence[Any] = ()) -> Any:
        return self._conn.execute(self._store.dialect.sql(statement), tuple(params))

    def save_release(self, release: Release) -> bool:
        cursor = self._execute(
            "INSERT INTO releases (id, created_at, json) VALUES (?, ?, ?) ON CONFLICT (id) DO NOTHING",
            (release.id, iso_utc(release.created_at), release.model_dump_json()),
        )
        return bool(cursor.rowcount == 1)

    def start_deployment(self, deployment: Deployment) -> Deployment:
        row = self._execute(
            "INSERT INTO deployments (release_id, env, status, actor, action, started_at, finished_at, stages, reason)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            (
                deployment.release_id,
                deployment.env,
                deployment.status.value,
                deployment.actor,
                deployment.action,
                iso_utc(deployment.started_at),
                iso_utc(deployment.finished_at) if deployment.finished_at else None,
                canonical_json(deployment.stages),
                deployment.reason,
            ),
        ).fetchone()
        self._image("deployments", (int(row[0]),))
        return deployment.model_copy(update={"id": int(row[0])})

    def update_deployment(
        self,
        deployment_id: int,
        *,
        status: DeploymentStatus | None = None,
        stage: tuple[str, datetime] | None = None,
        finished_at: datetime | None = None,
        reason: str | None = None,
    ) -> Deployment:
        row = self._execute(f"SELECT {DEPLOYMENT_COLUMNS} FROM deployments WHERE id = ?", (deployment_id,)).fetchone()
        if row is None:
            raise StateError(f"no deployment with id {deployment_id}")
        current = deployment_from_row(row)
        stages = dict(current.stages)
        if stage is not None:
            stages[stage[0]] = iso_utc(stage[1])
        updated = current.model_copy(
            update={
                "status": status if status is not None else current.status,
                "stages": stages,
                "finished_at": finished_at if finished_at is not None else current.finished_at,
                "reason": reason if reason is not None else current.reason,
            }
        )
        self._execute(
            "UPDATE deployments SET status = ?, stages = ?, finished_at = ?, reason = ? WHERE id = ?",
            (
                updated.status.value,
                canonical_json(updated.stages),
                iso_utc(updated.finished_at) if updated.finished_at else None,
                updated.reason,
                deployment_id,
            ),
        )
        if (updated.status, updated.finished_at, updated.reason) != (current.status, current.finished_at, current.reason):
            self._image("deployments", (deployment_id,))
        # Re-validate so the returned value is exactly what a later read returns (timestamps normalised to UTC).
        return deployment_from_row(
            self._execute(f"SELECT {DEPLOYMENT_COLUMNS} FROM deployments WHERE id = ?", (deployment_id,)).fetchone()
        )

    def add_gate_results(self, deployment_id: int, results: list[GateResult]) -> None:
        for result in results:
            self._execute(
                "INSERT INTO gate_results (deployment_id, json) VALUES (?, ?)",
                (deployment_id, result.model_dump_json()),
            )

    def add_approval(self, approval: Approval) -> bool:
        cursor = self._execute(
            "INSERT INTO approvals (release_id, env, approver, at, comment) VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT (release_id, env, approver) DO NOTHING",
            (approval.release_id, approval.env, approval.approver, iso_utc(approval.at), approval.comment),
        )
        added = bool(cursor.rowcount == 1)
        if added:
            self._image("approvals", (approval.release_id, approval.env, approval.approver))
        return added

    def set_live(self, env: str, kind: str, name: str, sha256: str, release_id: str) -> None:
        self._execute(
            "INSERT INTO live (env, kind, name, sha256, release_id) VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT (env, kind, name) DO UPDATE SET sha256 = excluded.sha256, release_id = excluded.release_id",
            (env, enum_value(kind), name, sha256, release_id),
        )
        self._image("live", (env, enum_value(kind), name))

    def append_audit(
        self, actor: str, action: str, release_id: str | None, env: str | None, payload: dict[str, Any]
    ) -> AuditEntry:
        head = self._execute(
            f"SELECT seq, hash FROM audit_head WHERE id = 1{self._store.dialect.lock_audit_head}"
        ).fetchone()
        if head is None:
            raise StateError("audit_head row is missing; the audit log was tampered with (run verify)")
        seq, prev_hash = int(head[0]) + 1, str(head[1])
        at = datetime.now(UTC)
        if STATE_ROWS_KEY in payload:
            raise StateError(f"audit payload key {STATE_ROWS_KEY!r} is reserved for the state layer")
        if self._pending:
            payload = {**payload, STATE_ROWS_KEY: self._pending}
            self._pending = []
        clean = normalise_payload(payload)
        digest = compute_hash(
            seq=seq, at=at, actor=actor, action=action, release_id=release_id, env=env, payload=clean, prev_hash=prev_hash
        )
        self._execute(
            "INSERT INTO audit (seq, at, actor, action, release_id, env, payload, prev_hash, hash)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (seq, iso_utc(at), actor, action, release_id, env, canonical_json(clean), prev_hash, digest),
        )
        self._execute("UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1", (seq, digest))
        return AuditEntry(
            seq=seq,
            at=parse_iso(iso_utc(at)),
            actor=actor,
            action=action,
            release_id=release_id,
            env=env,
            payload=clean,
            prev_hash=prev_hash,
            hash=digest,
        )
