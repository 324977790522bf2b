"""Per-environment locks for both engines: exclusive, self-describing, released when the holder dies."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from northstar_release.state import LockHeld, StateError, open_store

PIPELINES_DIR = Path(__file__).resolve().parents[2]  # contains the northstar_release package


def test_second_acquirer_fails_at_once_and_names_the_holder(store, store_url: str, tmp_path: Path) -> None:
    other = open_store(store_url, tmp_path)
    try:
        with store.env_lock("prod"):
            started = time.monotonic()
            with pytest.raises(LockHeld) as caught:
                with other.env_lock("prod"):
                    pass
            assert time.monotonic() - started < 2.0
            assert caught.value.env == "prod"
            assert f"pid {os.getpid()}" in caught.value.holder
            assert "prod" in str(caught.value)
            with other.env_lock("staging"):  # other environments are independent
                pass
        with other.env_lock("prod"):  # released at the end of the block
            pass
    finally:
        other.close()


def test_wait_times_out_with_lock_held(store, store_url: str, tmp_path: Path) -> None:
    other = open_store(store_url, tmp_path)
    try:
        with store.env_lock("dev"):
            started = time.monotonic()
            with pytest.raises(LockHeld):
                with other.env_lock("dev", wait=True, timeout_s=0.5):
                    pass
            assert 0.4 <= time.monotonic() - started < 5.0
    finally:
        other.close()


def test_wait_acquires_once_the_holder_releases(store, store_url: str, tmp_path: Path) -> None:
    other = open_store(store_url, tmp_path)
    released = threading.Event()

    def hold() -> None:
        with store.env_lock("dev"):
            held.set()
            time.sleep(0.5)
            released.set()

    held = threading.Event()
    thread = threading.Thread(target=hold)
    thread.start()
    try:
        assert held.wait(10)
        with other.env_lock("dev", wait=True, timeout_s=10):
            assert released.is_set()
    finally:
        thread.join()
        other.close()


def test_invalid_env_name_is_refused(store) -> None:
    with pytest.raises(StateError):
        with store.env_lock("../etc/passwd"):
            pass


def test_lock_of_a_killed_process_is_released(store, store_url: str, tmp_path: Path) -> None:
    child_code = textwrap.dedent(
        f"""
        import sys, time
        from pathlib import Path
        from northstar_release.state import open_store
        store = open_store({store_url!r}, Path({str(tmp_path)!r}))
        with store.env_lock("prod"):
            print("locked", flush=True)
            time.sleep(600)
        """
    )
    env = {**os.environ, "PYTHONPATH": str(PIPELINES_DIR)}
    child = subprocess.Popen([sys.executable, "-c", child_code], stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "locked"
        with pytest.raises(LockHeld) as caught:
            with store.env_lock("prod"):
                pass
        assert f"pid {child.pid}" in caught.value.holder
        os.kill(child.pid, signal.SIGKILL)
        child.wait(10)
        # The OS (flock) or the server (session end) frees it; allow PostgreSQL a moment to notice the dead client.
        with store.env_lock("prod", wait=True, timeout_s=10):
            pass
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
