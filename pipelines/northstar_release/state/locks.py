"""Per-environment exclusive locks: ``flock`` files for local state, advisory locks for PostgreSQL.

Why these primitives: both are released by the operating system / server when the holder dies (SIGKILL, OOM, lost
laptop lid), so a crashed deploy never leaves an environment locked forever and nobody needs a "force unlock" command
that could break a running deploy. Both record who holds the lock so ``LockHeld.holder`` can name them.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
import socket
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from northstar_release.state.base import LockHeld, StateError

_ENV_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")
_POLL_S = 0.1


def _check_env(env: str) -> None:
    if not _ENV_NAME.match(env):
        raise StateError(f"invalid environment name for a lock: {env!r}")


def holder_description() -> str:
    """Who we are, for whoever finds the lock taken: pid, host, command line and since when."""
    since = datetime.now(UTC).isoformat(timespec="seconds")
    command = " ".join(sys.argv) or sys.executable
    return f"pid {os.getpid()} on {socket.gethostname()} since {since}: {command}"


@contextmanager
def file_env_lock(lock_dir: Path, env: str, *, wait: bool = False, timeout_s: float = 600.0) -> Iterator[None]:
    """Hold ``<lock_dir>/<env>.lock`` exclusively for the block.

    The file is opened without truncation and only rewritten *after* the lock is ours, so a loser never clobbers the
    holder's description. The file is never deleted: unlinking a lock file lets two processes lock different inodes.
    """
    _check_env(env)
    lock_dir.mkdir(parents=True, exist_ok=True)
    path = lock_dir / f"{env}.lock"
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        deadline = time.monotonic() + max(timeout_s, 0.0)
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if not wait or time.monotonic() >= deadline:
                    raise LockHeld(env, _read_holder(path)) from None
                time.sleep(_POLL_S)
        os.ftruncate(fd, 0)
        os.pwrite(fd, (holder_description() + "\n").encode("utf-8"), 0)
        os.fsync(fd)
        try:
            yield
        finally:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _read_holder(path: Path) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace").strip()
    except OSError:
        text = ""
    return text or f"unknown holder (lock file {path} holds no description yet)"


# -- PostgreSQL ------------------------------------------------------------------------------------------------------

_ADVISORY_NAMESPACE = 0x4E53_5245  # "NSRE": first key of the two-int advisory lock, keeps clear of other apps' keys


def advisory_key(env: str) -> tuple[int, int]:
    """Stable (namespace, int4) key for an environment's advisory lock."""
    digest = int.from_bytes(hashlib.sha256(env.encode("utf-8")).digest()[:4], "big", signed=True)
    return _ADVISORY_NAMESPACE, digest


@contextmanager
def advisory_env_lock(
    connect: Callable[[str], Any], env: str, *, wait: bool = False, timeout_s: float = 600.0
) -> Iterator[None]:
    """Hold a session advisory lock on a dedicated connection for the block.

    ``connect(application_name)`` must return a new autocommit psycopg connection. The lock lives exactly as long as
    that session: if this process dies, the server ends the session and releases the lock. The connection's
    ``application_name`` carries our pid/command so a loser can name us via ``pg_stat_activity``.
    """
    import psycopg

    _check_env(env)
    key = advisory_key(env)
    conn = connect(f"northstar-release lock {env} pid {os.getpid()}"[:63])
    try:
        if wait:
            conn.execute("SELECT set_config('lock_timeout', %s, false)", (f"{max(int(timeout_s * 1000), 1)}ms",))
            try:
                conn.execute("SELECT pg_advisory_lock(%s, %s)", key)
            except psycopg.errors.LockNotAvailable:
                raise LockHeld(env, _advisory_holder(conn, key)) from None
        else:
            row = conn.execute("SELECT pg_try_advisory_lock(%s, %s)", key).fetchone()
            if not row or not row[0]:
                raise LockHeld(env, _advisory_holder(conn, key))
        try:
            yield
        finally:
            if not conn.closed:
                try:
                    conn.execute("SELECT pg_advisory_unlock(%s, %s)", key)
                except psycopg.Error:
                    pass  # closing the session below releases it anyway
    finally:
        conn.close()


def _advisory_holder(conn: Any, key: tuple[int, int]) -> str:
    """Best effort: describe the session holding ``key`` from pg_locks / pg_stat_activity."""
    try:
        row = conn.execute(
            """
            SELECT a.pid, a.application_name, a.client_addr::text, a.usename, a.backend_start
            FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
            WHERE l.locktype = 'advisory' AND l.granted AND l.database = (
                SELECT oid FROM pg_database WHERE datname = current_database())
              AND l.classid::bigint = %s AND l.objid::bigint = %s AND l.objsubid = 2
            LIMIT 1
            """,
            (key[0] & 0xFFFFFFFF, key[1] & 0xFFFFFFFF),
        ).fetchone()
    except Exception as exc:  # noqa: BLE001 - holder info is best effort; the lock decision already stands
        return f"unknown holder ({exc.__class__.__name__} while reading pg_stat_activity)"
    if row is None:
        return "unknown holder (it released the lock just now; retry)"
    backend_pid, app, addr, user, since = row
    start = since.astimezone(UTC).isoformat(timespec="seconds") if since else "?"
    return f"{app or 'unnamed session'} (user {user}, client {addr or 'local socket'}, backend pid {backend_pid}, since {start})"
