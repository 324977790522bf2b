"""The local Airflow image build: built by Pants where a Docker engine answers, skipped with a clear message where not.

The test points DOCKER_HOST at a socket nobody listens on, so it exercises the no-engine path on every machine (a
real build needs the engine and the apache/airflow base image; deliver.yml builds it on GitHub's runners)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

SCRIPT = Path(".github/scripts/build-airflow-image")


def run(*args: str, path: str | None = None) -> subprocess.CompletedProcess[str]:
    os.chmod(SCRIPT, 0o755)
    env = {**os.environ, "DOCKER_HOST": "unix:///nonexistent/northstar-test.sock"}
    if path is not None:
        env["PATH"] = path
    return subprocess.run([str(SCRIPT), *args], capture_output=True, text=True, env=env)


@pytest.mark.skipif(shutil.which("docker") is None, reason="no docker client installed: covered by the next test")
def test_unreachable_engine_skips_with_a_clear_message() -> None:
    proc = run()
    assert proc.returncode == 0
    assert "SKIPPED: no Docker engine reachable" in proc.stderr and "nonexistent/northstar-test.sock" in proc.stderr
    assert run("--require").returncode == 3


def test_missing_client_skips_with_a_clear_message(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("bash", "dirname", "tail"):
        found = shutil.which(tool)
        assert found is not None
        (bin_dir / tool).symlink_to(found)
    proc = run(path=str(bin_dir))
    assert proc.returncode == 0 and "SKIPPED: no docker client on PATH" in proc.stderr
