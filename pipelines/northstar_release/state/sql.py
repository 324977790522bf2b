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

import threading
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import Any

from northstar_release.audit import AuditAnchor, VerifyResult, parse_iso
from northstar_release.model import Approval, AuditEntry, Deployment, GateResult, Release
from northstar_release.state.audit_memo import AuditMemo
from northstar_release.state.base import StateError
from northstar_release.state.rows import DEPLOYMENT_COLUMNS, audit_from_row, deployment_from_row
from northstar_release.state.schema import (
    CHAINED_COLUMNS,
    CHAINED_KEYS,
    RAW_PAYLOAD_KEY,
    SCHEMA_VERSION,
    STATE_ROWS_KEY,
    SYSTEM_ACTOR,
    Dialect,
    schema_ddl,
)
from northstar_release.state.transaction import SqlTransaction

__all__ = [
    "CHAINED_COLUMNS",
    "CHAINED_KEYS",
    "RAW_PAYLOAD_KEY",
    "SCHEMA_VERSION",
    "STATE_ROWS_KEY",
    "SYSTEM_ACTOR",
    "Dialect",
    "SqlStateStore",
    "SqlTransaction",
    "schema_ddl",
]


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
        self._audit_memo = AuditMemo()
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
        rows = self._query(f"SELECT {DEPLOYMENT_COLUMNS} FROM deployments{where} ORDER BY id DESC", params)
        return [deployment_from_row(row) for row in rows]

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
        return self._audit_memo.entries(self._audit_rows())

    def verified_audit_entries(self) -> tuple[list[AuditEntry], VerifyResult]:
        # The anchor first: it is a lower bound, so entries another process appends between the two reads are fine;
        # read after the rows, such an append would look like a truncated tail.
        anchor = self.audit_anchor()
        return self._audit_memo.verified(self._audit_rows(), anchor)

    def _audit_rows(self) -> list[Any]:
        return self._query(
            "SELECT seq, at, actor, action, release_id, env, payload, prev_hash, hash FROM audit ORDER BY seq"
        )

    def audit_entries_of(self, release_id: str) -> list[AuditEntry]:
        rows = self._query(
            "SELECT seq, at, actor, action, release_id, env, payload, prev_hash, hash FROM audit WHERE release_id = ? "
            "ORDER BY seq", (release_id,)
        )
        return [audit_from_row(row) for row in rows]

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
