"""Release state and audit: SQLite (default, local) or PostgreSQL (team-shared) behind one protocol."""

from __future__ import annotations

from pathlib import Path

from northstar_release.state.base import LockHeld, StateError, StateStore, Transaction

__all__ = ["LockHeld", "StateError", "StateStore", "Transaction", "open_store"]


def open_store(url: str | None, state_dir: Path) -> StateStore:
    """Open (and create or migrate) the state store named by ``url``.

    ``None`` -> SQLite at ``<state_dir>/state.db``; ``sqlite:///abs/path.db`` -> that file; ``postgresql://...`` (or
    ``postgres://``) -> PostgreSQL. Local environment locks always live in ``<state_dir>/locks`` for SQLite, next to
    the env directories they protect. Imports are lazy so SQLite users never need psycopg.
    """
    state_dir = Path(state_dir)
    if url is None or url == "":
        from northstar_release.state.sqlite_store import SqliteStateStore

        return SqliteStateStore(state_dir / "state.db", lock_dir=state_dir / "locks")
    scheme = url.split("://", 1)[0].lower() if "://" in url else ""
    if scheme == "sqlite":
        from northstar_release.state.sqlite_store import SqliteStateStore

        path = url[len("sqlite://") :]
        if not path.startswith("/") or path == "/":
            raise StateError(f"SQLite state URL must name an absolute file path, like sqlite:///abs/path.db; got {url!r}")
        return SqliteStateStore(Path(path), lock_dir=state_dir / "locks")
    if scheme in ("postgresql", "postgres"):
        from northstar_release.state.postgres_store import PostgresStateStore

        return PostgresStateStore(url)
    shown = scheme or url
    raise StateError(
        f"unsupported state URL scheme {shown!r}: use no URL (SQLite under the state dir), "
        "sqlite:///abs/path.db, or postgresql://user@host/db"
    )
