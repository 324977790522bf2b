"""State schema: version, DDL, the chained tables and the per-engine ``Dialect``.

Why separate: the schema (what the hash chain vouches for, which DDL each engine runs) is the contract between the
store, the reconciler (``state.reconcile``) and the migration; it changes rarely and must be readable on its own.
"""

from __future__ import annotations

from dataclasses import dataclass

from northstar_release.audit import GENESIS

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
