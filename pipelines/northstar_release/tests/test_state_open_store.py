"""open_store URL handling."""

from __future__ import annotations

from pathlib import Path

import pytest

from northstar_release.state import StateError, open_store
from northstar_release.state.postgres_store import PostgresStateStore, redact
from northstar_release.state.sqlite_store import SqliteStateStore


def test_default_is_sqlite_under_state_dir(tmp_path: Path) -> None:
    store = open_store(None, tmp_path)
    try:
        assert isinstance(store, SqliteStateStore)
        assert store.path == tmp_path / "state.db" and store.path.exists()
        assert store.local_dir() == tmp_path  # where health finds envs/<env>/airflow/airflow.db
        assert store.url == f"sqlite://{tmp_path / 'state.db'}"
        with store.env_lock("dev"):
            assert (tmp_path / "locks" / "dev.lock").exists()
    finally:
        store.close()


def test_wal_mode(tmp_path: Path) -> None:
    store = open_store(None, tmp_path)
    try:
        assert isinstance(store, SqliteStateStore)
        assert store._query("PRAGMA journal_mode") == [("wal",)]
    finally:
        store.close()


def test_explicit_sqlite_url(tmp_path: Path) -> None:
    db = tmp_path / "elsewhere" / "x.db"
    store = open_store(f"sqlite://{db}", tmp_path / "state")
    try:
        assert isinstance(store, SqliteStateStore) and db.exists()
        assert store.lock_dir == tmp_path / "state" / "locks"
    finally:
        store.close()


@pytest.mark.parametrize("url", ["sqlite://relative.db", "sqlite:///", "mysql://x/y", "state.db", "s3://bucket/k"])
def test_bad_urls_raise_state_error(url: str, tmp_path: Path) -> None:
    with pytest.raises(StateError, match="sqlite:///abs/path.db"):
        open_store(url, tmp_path)


def test_postgres_url(postgres_url: str, tmp_path: Path) -> None:
    store = open_store(postgres_url, tmp_path)
    try:
        assert isinstance(store, PostgresStateStore)
        assert store.audit_entries() == []
        assert store.local_dir() is None  # nothing local: health.airflow_db must be absolute
    finally:
        store.close()


def test_unreachable_postgres_is_a_state_error(tmp_path: Path) -> None:
    with pytest.raises(StateError, match=r"cannot connect to PostgreSQL state at postgresql://u:\*\*\*@127.0.0.1:1/db"):
        open_store("postgresql://u:secret@127.0.0.1:1/db", tmp_path)


def test_redact() -> None:
    assert redact("postgresql://u:pw@h:5/db") == "postgresql://u:***@h:5/db"
    assert redact("postgresql://u@h/db") == "postgresql://u@h/db"
