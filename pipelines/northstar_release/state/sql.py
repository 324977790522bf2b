"""One SQL implementation of the state store, parameterised by a tiny ``Dialect``.

Why one implementation: SQLite (local default) and PostgreSQL (team-shared) must behave identically — same schema,
same audit chain, same idempotency rules — and two copies would drift. Everything that differs between the engines
(placeholders, id columns, how a write transaction starts, how the audit head is locked, trigger syntax) lives in the
``Dialect``; the concrete stores only know how to connect and how to lock an environment.

Both engines are used in autocommit mode with explicit ``BEGIN``/``COMMIT``/``ROLLBACK`` so that reads outside a
transaction never hold a snapshot open, and a transaction is exactly the ``with store.transaction()`` block.

Timestamps are stored as ISO-8601 UTC text (``audit.iso_utc``) in both engines, and JSON as text: the audit hash must
be recomputed from exactly what is stored, and one spelling for both engines keeps the code shared.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum
from typing import Any

from northstar_release.audit import (
    GENESIS,
    AuditAnchor,
    canonical_json,
    compute_hash,
    iso_utc,
    normalise_payload,
    parse_iso,
)
from northstar_release.model import Approval, AuditEntry, Deployment, DeploymentStatus, GateResult, Release
from northstar_release.state.base import StateError

SCHEMA_VERSION = 2
"""1: initial schema. 2: row images of approvals, deployments and live pointers are chained into the audit log
(``STATE_ROWS_KEY``); the upgrade appends one ``state.baseline`` entry vouching for the rows present at upgrade."""

STATE_ROWS_KEY = "_state_rows"
"""Audit payload key holding the row images a transaction wrote to the chained tables (see ``SqlTransaction``)."""

SYSTEM_ACTOR = "system:northstar-release"
"""Actor of entries the state layer appends on its own (``state.sync``, ``state.baseline``)."""

CHAINED_COLUMNS: dict[str, tuple[str, ...]] = {
    "approvals": ("release_id", "env", "approver", "at", "comment"),
    "deployments": ("id", "release_id", "env", "status", "actor", "action", "started_at", "finished_at", "reason"),
    "live": ("env", "kind", "name", "sha256", "release_id"),
}
"""The columns of each table the hash chain vouches for. ``deployments.stages`` is progress bookkeeping (updated
without an audit entry after every check) and is deliberately left out; every status change is chained."""

CHAINED_KEYS: dict[str, tuple[str, ...]] = {
    "approvals": ("release_id", "env", "approver"),
    "deployments": ("id",),
    "live": ("env", "kind", "name"),
}

RAW_PAYLOAD_KEY = "__raw_payload__"
"""Key under which ``audit_entries`` surfaces a stored payload that is not the canonical JSON the API writes.

Why: ``audit_entries`` must show tampering, not hide it. A payload edited into invalid or non-canonical JSON (even a
whitespace byte) is returned verbatim under this key, so its hash no longer matches and verification names the seq.
"""


@dataclass(frozen=True)
class Dialect:
    """What differs between the SQL engines. SQL in this module is written with ``?`` placeholders."""

    name: str
    placeholder: str
    id_column: str  # auto-incrementing integer primary key
    begin_write: str  # starts a transaction that may write
    lock_audit_head: str  # suffix for SELECT on audit_head that serialises appenders
    schema_lock: str | None  # statement run first in the migration transaction (serialises concurrent migrations)
    guard_ddl: tuple[str, ...]  # triggers that make audit / audit_head append-only

    def sql(self, statement: str) -> str:
        return statement if self.placeholder == "?" else statement.replace("?", self.placeholder)


def schema_ddl(dialect: Dialect) -> list[str]:
    """Idempotent DDL for the current schema version (``IF NOT EXISTS`` throughout)."""
    return [
        "CREATE TABLE IF NOT EXISTS releases (id TEXT PRIMARY KEY, created_at TEXT NOT NULL, json TEXT NOT NULL)",
        f"""CREATE TABLE IF NOT EXISTS deployments (
            id {dialect.id_column},
            release_id TEXT NOT NULL,
            env TEXT NOT NULL,
            status TEXT NOT NULL,
            actor TEXT NOT NULL,
            action TEXT NOT NULL,
            started_at TEXT NOT NULL,
            finished_at TEXT,
            stages TEXT NOT NULL,
            reason TEXT NOT NULL DEFAULT ''
        )""",
        "CREATE INDEX IF NOT EXISTS deployments_env_idx ON deployments (env, id)",
        "CREATE INDEX IF NOT EXISTS deployments_release_idx ON deployments (release_id, id)",
        f"""CREATE TABLE IF NOT EXISTS gate_results (
            id {dialect.id_column},
            deployment_id BIGINT NOT NULL REFERENCES deployments (id),
            json TEXT NOT NULL
        )""",
        "CREATE INDEX IF NOT EXISTS gate_results_deployment_idx ON gate_results (deployment_id, id)",
        """CREATE TABLE IF NOT EXISTS approvals (
            release_id TEXT NOT NULL,
            env TEXT NOT NULL,
            approver TEXT NOT NULL,
            at TEXT NOT NULL,
            comment TEXT NOT NULL DEFAULT '',
            UNIQUE (release_id, env, approver)
        )""",
        """CREATE TABLE IF NOT EXISTS live (
            env TEXT NOT NULL,
            kind TEXT NOT NULL,
            name TEXT NOT NULL,
            sha256 TEXT NOT NULL,
            release_id TEXT NOT NULL,
            PRIMARY KEY (env, kind, name)
        )""",
        """CREATE TABLE IF NOT EXISTS audit (
            seq BIGINT PRIMARY KEY,
            at TEXT NOT NULL,
            actor TEXT NOT NULL,
            action TEXT NOT NULL,
            release_id TEXT,
            env TEXT,
            payload TEXT NOT NULL,
            prev_hash TEXT NOT NULL,
            hash TEXT NOT NULL
        )""",
        # The anchor row: chain head (seq, hash), updated in the same transaction as every append. It is also the row
        # PostgreSQL appenders lock (SELECT ... FOR UPDATE) so two writers can never fork the chain.
        """CREATE TABLE IF NOT EXISTS audit_head (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            seq BIGINT NOT NULL,
            hash TEXT NOT NULL
        )""",
        f"INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '{GENESIS}') ON CONFLICT (id) DO NOTHING",
        *dialect.guard_ddl,
    ]


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
        row = self._execute(f"SELECT {_DEPLOYMENT_COLUMNS} FROM deployments WHERE id = ?", (deployment_id,)).fetchone()
        if row is None:
            raise StateError(f"no deployment with id {deployment_id}")
        current = _deployment_from_row(row)
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
        return _deployment_from_row(
            self._execute(f"SELECT {_DEPLOYMENT_COLUMNS} FROM deployments WHERE id = ?", (deployment_id,)).fetchone()
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
            (env, _enum_value(kind), name, sha256, release_id),
        )
        self._image("live", (env, _enum_value(kind), name))

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


_DEPLOYMENT_COLUMNS = "id, release_id, env, status, actor, action, started_at, finished_at, stages, reason"


def _enum_value(value: Any) -> Any:
    """Accept an enum member (a str enum) or a plain string; store the plain value."""
    if isinstance(value, Enum):
        return value.value
    return str(value) if isinstance(value, str) else value  # ArtifactKind is a str subclass: store a plain str


def _deployment_from_row(row: Sequence[Any]) -> Deployment:
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


def _audit_from_row(row: Sequence[Any]) -> AuditEntry:
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


class SqlStateStore:
    """``base.StateStore`` over a DB-API connection. Subclasses supply ``_connect`` and ``env_lock``.

    One connection per store, used under a re-entrant thread lock: a store object may be shared by threads, but a
    transaction belongs to the thread that opened it. Separate processes (or separate store objects) get separate
    connections and are serialised by the database.
    """

    url: str
    dialect: Dialect

    def __init__(self) -> None:
        self._mutex = threading.RLock()
        self._conn: Any = None
        self._in_transaction = False
        self._migrate()

    # -- connection management (engine specific) -------------------------------------------------------------------

    def _connect(self) -> Any:
        raise NotImplementedError

    def _is_usable(self, conn: Any) -> bool:
        return True

    def _connection(self) -> Any:
        if self._conn is None or not self._is_usable(self._conn):
            self._conn = self._connect()
        return self._conn

    def close(self) -> None:
        with self._mutex:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def __enter__(self) -> SqlStateStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- schema ------------------------------------------------------------------------------------------------------

    def _migrate(self) -> None:
        """Create the schema idempotently; refuse a database written by a newer version of this code."""
        with self._write() as conn:
            if self.dialect.schema_lock:
                conn.execute(self.dialect.schema_lock)
            conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
            row = conn.execute("SELECT MAX(version) FROM schema_version").fetchone()
            version = row[0] if row else None
            if version is not None and int(version) > SCHEMA_VERSION:
                raise StateError(
                    f"state database {self.url} has schema version {version}, newer than this code supports "
                    f"({SCHEMA_VERSION}); upgrade northstar_release"
                )
            if version is None or int(version) < SCHEMA_VERSION:
                for statement in schema_ddl(self.dialect):
                    conn.execute(statement)
                if version is not None:
                    self._baseline(SqlTransaction(self, conn))
                conn.execute(self.dialect.sql("INSERT INTO schema_version (version) VALUES (?)"), (SCHEMA_VERSION,))

    def _baseline(self, tx: SqlTransaction) -> None:
        """Upgrade from a schema whose rows were not chained: one audit entry vouches for every row present now.

        Why explicit: rows written before the upgrade cannot be proven by the chain; the ``state.baseline`` entry
        says so (who ran the upgrade is not known here, hence the system actor) and everything after it is proven."""
        for table, columns in CHAINED_COLUMNS.items():
            for row in tx._execute(f"SELECT {', '.join(columns)} FROM {table}").fetchall():
                tx._pending.append({"table": table, "row": dict(zip(columns, row, strict=True))})
        tx.append_audit(SYSTEM_ACTOR, "state.baseline", None, None,
                        {"from_schema_version": 1, "to_schema_version": SCHEMA_VERSION})

    # -- transactions ------------------------------------------------------------------------------------------------

    @contextmanager
    def _write(self) -> Iterator[Any]:
        with self._mutex:
            if self._in_transaction:
                raise StateError("nested state transactions are not supported; use the outer transaction")
            conn = self._connection()
            conn.execute(self.dialect.begin_write)
            self._in_transaction = True
            try:
                yield conn
            except BaseException:
                self._in_transaction = False
                try:
                    conn.execute("ROLLBACK")
                except Exception:  # noqa: BLE001 - connection is gone: nothing was committed; keep the real error
                    self._conn = None
                    try:
                        conn.close()
                    except Exception:  # noqa: BLE001
                        pass
                raise
            self._in_transaction = False
            conn.execute("COMMIT")

    def transaction(self) -> AbstractContextManager[SqlTransaction]:
        """All writes in the block commit together, or none do (any exception rolls back, audit rows included)."""

        @contextmanager
        def _tx() -> Iterator[SqlTransaction]:
            with self._write() as conn:
                tx = SqlTransaction(self, conn)
                yield tx
                tx.flush_state_rows()

        return _tx()

    def _query(self, statement: str, params: Sequence[Any] = ()) -> list[Any]:
        with self._mutex:
            return list(self._connection().execute(self.dialect.sql(statement), tuple(params)).fetchall())

    # -- reads -------------------------------------------------------------------------------------------------------

    def get_release(self, release_id: str) -> Release | None:
        rows = self._query("SELECT json FROM releases WHERE id = ?", (release_id,))
        return Release.model_validate_json(rows[0][0]) if rows else None

    def list_releases(self) -> list[Release]:
        """Newest first (by ``created_at``, then id)."""
        rows = self._query("SELECT json FROM releases ORDER BY created_at DESC, id DESC")
        return [Release.model_validate_json(row[0]) for row in rows]

    def deployments(self, env: str | None = None, release_id: str | None = None) -> list[Deployment]:
        clauses, params = [], []
        if env is not None:
            clauses.append("env = ?")
            params.append(env)
        if release_id is not None:
            clauses.append("release_id = ?")
            params.append(release_id)
        where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        rows = self._query(f"SELECT {_DEPLOYMENT_COLUMNS} FROM deployments{where} ORDER BY id DESC", params)
        return [_deployment_from_row(row) for row in rows]

    def gate_results(self, deployment_id: int) -> list[GateResult]:
        rows = self._query("SELECT json FROM gate_results WHERE deployment_id = ? ORDER BY id", (deployment_id,))
        return [GateResult.model_validate_json(row[0]) for row in rows]

    def approvals(self, release_id: str, env: str) -> list[Approval]:
        rows = self._query(
            "SELECT release_id, env, approver, at, comment FROM approvals WHERE release_id = ? AND env = ?"
            " ORDER BY at, approver",
            (release_id, env),
        )
        return [
            Approval(release_id=r[0], env=r[1], approver=r[2], at=parse_iso(r[3]), comment=r[4]) for r in rows
        ]

    def live(self, env: str) -> dict[tuple[str, str], tuple[str, str]]:
        rows = self._query("SELECT kind, name, sha256, release_id FROM live WHERE env = ?", (env,))
        return {(r[0], r[1]): (r[2], r[3]) for r in rows}

    def audit_entries(self) -> list[AuditEntry]:
        rows = self._query(
            "SELECT seq, at, actor, action, release_id, env, payload, prev_hash, hash FROM audit ORDER BY seq"
        )
        return [_audit_from_row(row) for row in rows]

    def chained_rows(self) -> dict[str, list[dict[str, Any]]]:
        """Every row of the chained tables, restricted to ``CHAINED_COLUMNS`` and exactly as stored (for reconciling
        with the row images in the audit chain; see ``state.reconcile``)."""
        out: dict[str, list[dict[str, Any]]] = {}
        for table, columns in CHAINED_COLUMNS.items():
            rows = self._query(f"SELECT {', '.join(columns)} FROM {table}")
            out[table] = [dict(zip(columns, row, strict=True)) for row in rows]
        return out

    def audit_anchor(self) -> AuditAnchor | None:
        """The in-database head anchor (None if the anchor row was deleted — itself a sign of tampering)."""
        rows = self._query("SELECT seq, hash FROM audit_head WHERE id = 1")
        return AuditAnchor(seq=int(rows[0][0]), hash=str(rows[0][1])) if rows else None
