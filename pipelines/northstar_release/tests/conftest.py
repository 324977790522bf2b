"""Shared fixtures: a throwaway PostgreSQL cluster per test session and state stores for both engines.

Why a real server: the PostgreSQL store's correctness hinges on server behaviour (row locks, advisory locks, triggers,
session teardown on client death) that no fake reproduces. The cluster needs the Debian ``postgresql`` package's
server binaries; if they are missing the PostgreSQL tests FAIL (CI must install them) unless
``NORTHSTAR_SKIP_POSTGRES=1`` is set explicitly.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from northstar_release.state import StateStore

PIPELINES_DIR = Path(__file__).resolve().parents[2]  # the directory that contains the northstar_release package


def _absolutize_entrypoint_env() -> None:
    """Pants hands the dagbag_check PEX to the tests as a sandbox-relative path; tests run the CLI from other
    directories (temporary git repos), so turn a relative executable path into an absolute one once, up front."""
    for var in [v for v in os.environ if v.startswith("NORTHSTAR_ENTRYPOINT_")]:
        value = os.environ.get(var, "").strip()
        if value and not os.path.isabs(value) and os.path.exists(value):
            os.environ[var] = os.path.abspath(value)


_absolutize_entrypoint_env()
SKIP_POSTGRES = os.environ.get("NORTHSTAR_SKIP_POSTGRES") == "1"
INSTALL_HINT = (
    "PostgreSQL server binaries not found (looked for /usr/lib/postgresql/*/bin/initdb). Install the Debian "
    "'postgresql' package (apt-get install -y postgresql) or set NORTHSTAR_SKIP_POSTGRES=1 to skip these tests."
)


def _pg_bin_dir() -> Path | None:
    candidates = [Path(p).parent for p in glob.glob("/usr/lib/postgresql/*/bin/initdb")]
    candidates = [c for c in candidates if (c / "pg_ctl").exists() and (c / "postgres").exists()]
    if not candidates:
        return None
    return max(candidates, key=lambda c: float(c.parent.name) if c.parent.name.replace(".", "").isdigit() else 0.0)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _as_postgres_user(argv: list[str]) -> list[str]:
    """initdb/postgres refuse to run as root; drop to the Debian ``postgres`` user when we are root."""
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *argv]
    return argv


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """Start a private cluster on a free localhost port; yield a superuser URL to its ``postgres`` database."""
    if SKIP_POSTGRES:
        pytest.skip("NORTHSTAR_SKIP_POSTGRES=1")
    bin_dir = _pg_bin_dir()
    if bin_dir is None:
        pytest.fail(INSTALL_HINT, pytrace=False)
    base = Path(tempfile.mkdtemp(prefix="northstar-pg-", dir="/tmp"))
    os.chmod(base, 0o755)
    data, sockets, log = base / "data", base / "sock", base / "server.log"
    sockets.mkdir()
    if os.geteuid() == 0:
        shutil.chown(base, "postgres", "postgres")
        shutil.chown(sockets, "postgres", "postgres")

    def run(argv: list[str]) -> None:
        done = subprocess.run(_as_postgres_user(argv), capture_output=True, text=True, cwd=base)
        if done.returncode != 0:
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            pytest.fail(f"{' '.join(argv)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}\n{tail}", pytrace=False)

    run([str(bin_dir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres", "-E", "UTF8", "--locale=C",
         "--no-sync"])
    port = _free_port()
    options = f"-p {port} -k {sockets} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off"
    run([str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(log), "-o", options, "-w", "-t", "60", "start"])
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(_as_postgres_user([str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"]),
                       capture_output=True, cwd=base)
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def postgres_url(postgres_server: str) -> Iterator[str]:
    """A fresh, empty database per test (so schema creation is exercised every time), dropped afterwards."""
    import psycopg

    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_server, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield postgres_server.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with psycopg.connect(postgres_server, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgres"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A state URL for each engine; the same test body runs against both."""
    if request.param == "sqlite":
        return f"sqlite://{tmp_path / 'state.db'}"
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture
def store(store_url: str, tmp_path: Path) -> Iterator[StateStore]:
    from northstar_release.state import open_store

    opened = open_store(store_url, tmp_path)
    try:
        yield opened
    finally:
        opened.close()
