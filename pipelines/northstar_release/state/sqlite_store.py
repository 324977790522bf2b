"""SQLite state store: the local default, one file under the state directory.

Why these settings: WAL lets readers (``status``, ``explain``) run while a deploy writes; ``BEGIN IMMEDIATE`` takes
the write lock at the start of a transaction, so two writers queue (``busy_timeout``) instead of failing half-way
with SQLITE_BUSY on upgrade; ``synchronous=FULL`` because an audit entry that a power cut can lose is not an audit.

Append-only audit: triggers RAISE on UPDATE/DELETE of ``audit`` and on anything but a +1 advance of ``audit_head``.
Anyone with write access to the file can still drop the triggers — that is what the hash chain and the exported
anchor (see ``northstar_release.audit``) are for.
"""

from __future__ import annotations

import sqlite3
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

from northstar_release.state.base import StateError
from northstar_release.state.locks import file_env_lock
from northstar_release.state.sql import Dialect, SqlStateStore

_BUSY_TIMEOUT_S = 60.0

SQLITE_DIALECT = Dialect(
    name="sqlite",
    placeholder="?",
    id_column="INTEGER PRIMARY KEY AUTOINCREMENT",
    begin_write="BEGIN IMMEDIATE",
    lock_audit_head="",  # BEGIN IMMEDIATE already makes this connection the only writer
    schema_lock=None,
    guard_ddl=(
        """CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit
           BEGIN SELECT RAISE(ABORT, 'audit is append-only: UPDATE rejected'); END""",
        """CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit
           BEGIN SELECT RAISE(ABORT, 'audit is append-only: DELETE rejected'); END""",
        """CREATE TRIGGER IF NOT EXISTS audit_head_advance_only BEFORE UPDATE ON audit_head
           WHEN NEW.seq <> OLD.seq + 1 OR NEW.id <> OLD.id
           BEGIN SELECT RAISE(ABORT, 'audit_head only advances by one entry'); END""",
        """CREATE TRIGGER IF NOT EXISTS audit_head_no_delete BEFORE DELETE ON audit_head
           BEGIN SELECT RAISE(ABORT, 'audit_head cannot be deleted'); END""",
    ),
)


class SqliteStateStore(SqlStateStore):
    """``StateStore`` over a SQLite file; environment locks are ``flock`` files in ``lock_dir``."""

    dialect = SQLITE_DIALECT

    def __init__(self, path: Path | str, *, lock_dir: Path | None = None) -> None:
        self.path = Path(path).absolute()
        self.url = f"sqlite:///{self.path.as_posix().lstrip('/')}"
        self.lock_dir = lock_dir if lock_dir is not None else self.path.parent / "locks"
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StateError(f"cannot create state directory {self.path.parent}: {exc}") from exc
        super().__init__()

    def _connect(self) -> Any:
        try:
            conn = sqlite3.connect(
                self.path, timeout=_BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False
            )
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")
            conn.execute("PRAGMA foreign_keys=ON")
        except sqlite3.Error as exc:
            raise StateError(f"cannot open SQLite state at {self.path}: {exc}") from exc
        return conn

    def env_lock(self, env: str, *, wait: bool = False, timeout_s: float = 600.0) -> AbstractContextManager[None]:
        """``flock`` on ``<lock_dir>/<env>.lock``; released by the kernel if this process dies."""
        return file_env_lock(self.lock_dir, env, wait=wait, timeout_s=timeout_s)

    def local_dir(self) -> Path:
        """The folder of the SQLite file: the engine's state dir."""
        return self.path.parent
