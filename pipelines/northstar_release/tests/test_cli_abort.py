"""An aborted deployment never stays ``running``, and a killed CLI takes its component processes with it (issue 14,
deliver 2), through the real CLI."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from northstar_release.tests.helpers import Cli, commit, fake_checker_cmd, make_repo, release_id

SLEEPY_CHECKER = r'''
import os, pathlib, sys, time
pathlib.Path(os.environ["SLEEPY_PID_FILE"]).write_text(str(os.getpid()))
time.sleep(60)
'''


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path)


@pytest.fixture
def fast(repo: Path, tmp_path: Path) -> Cli:
    return Cli(repo, tmp_path / "state", fake_checker_cmd(tmp_path))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (exited, not yet reaped by its new parent) no longer runs anything.
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().split(")")[-1].split()[0] != "Z"


def test_corrupted_blob_closes_its_deployment_as_failed(fast: Cli, repo: Path) -> None:
    fast("build")
    rel = release_id(repo)
    fast("deploy", rel, "--env", "dev")
    blob = next(p for p in (fast.state_dir / "artifacts").rglob("*") if p.is_file())
    blob.chmod(0o644)
    blob.write_bytes(blob.read_bytes() + b"tampered")
    res = fast("promote", rel, "--to", "staging", "--json", expect=2)
    assert "Traceback" not in res.stderr
    deps = json.loads(fast("history", "--env", "staging", "--json").stdout)["deployments"]
    assert deps, "the refused promote must leave a record"
    assert all(d["status"] != "running" for d in deps), deps
    assert deps[0]["status"] == "failed" and "corrupt" in deps[0]["reason"].lower()
    assert fast.live_target("staging") is None
    fast.audit_ok()


def test_failed_switch_back_still_closes_the_deployment(fast: Cli, repo: Path) -> None:
    """Double fault: verify fails in dev, and the switch back finds the previous release's blob corrupted. The
    deployment must end ``failed`` (naming both problems), not stay ``running`` until a later command."""
    fast("build")
    rel1 = release_id(repo)
    fast("deploy", rel1, "--env", "dev")
    (repo / "airflow" / "dags" / "env_specific.py").write_text("# FAIL_ON_LIVE\n")
    commit(repo, "a DAG that fails only once live")
    fast("build")
    rel2 = release_id(repo)
    old = json.loads(fast("show", rel1, "--json").stdout)["release"]["artifacts"][0]["sha256"]
    # Once rel2 is switched in (paused before its verify), rel1's blob is corrupted and its unpacked folder removed:
    # switching back to rel1 must re-read (and verify) rel1's blob. (Before the switch, recovery would see rel1's
    # folder gone and refuse the command as diverged: reality first.)
    proc = fast.popen("deploy", rel2, "--env", "dev", "--json", NORTHSTAR_TEST_PAUSE_AT="verify",
                      NORTHSTAR_TEST_PAUSE_SECONDS="3")
    assert proc.stderr is not None
    while "PAUSED verify" not in proc.stderr.readline():
        assert proc.poll() is None, proc.communicate()
    blob = fast.state_dir / "artifacts" / "sha256" / old[:2] / old
    blob.chmod(0o644)
    blob.write_bytes(blob.read_bytes() + b"tampered")
    folder = fast.state_dir / "envs" / "dev" / "dag_bundles" / old
    for path in [folder, *folder.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    shutil.rmtree(folder)
    _out, err = proc.communicate(timeout=120)
    assert proc.returncode in (1, 2) and "Traceback" not in err, err
    deps = json.loads(fast("history", "--env", "dev", "--json").stdout)["deployments"]
    assert deps[0]["release_id"] == rel2 and deps[0]["status"] == "failed", deps[0]
    assert "ArtifactCorrupted" in deps[0]["reason"] and old in deps[0]["reason"], deps[0]
    assert all(d["status"] != "running" for d in deps)
    fast.audit_ok()


def _deploy_with_sleepy_component(fast: Cli, repo: Path, tmp_path: Path) -> tuple[str, subprocess.Popen[str], int]:
    """Start ``deploy`` whose DagBag check is a component that sleeps; return once that component is running."""
    fast("build")
    rel = release_id(repo)
    sleepy = tmp_path / "sleepy_checker.py"
    sleepy.write_text(SLEEPY_CHECKER)
    pid_file = tmp_path / "component.pid"
    proc = fast.popen("deploy", rel, "--env", "dev", NORTHSTAR_ENTRYPOINT_DAGBAG_CHECK=f"{sys.executable} {sleepy}",
                      SLEEPY_PID_FILE=str(pid_file))
    deadline = time.monotonic() + 60
    while not pid_file.exists() or not pid_file.read_text():
        assert time.monotonic() < deadline and proc.poll() is None, proc.communicate()
        time.sleep(0.1)
    component = int(pid_file.read_text())
    return rel, proc, component


def test_killed_cli_takes_its_component_process_with_it(fast: Cli, repo: Path, tmp_path: Path) -> None:
    rel, proc, component = _deploy_with_sleepy_component(fast, repo, tmp_path)
    assert _alive(component)
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=30)
    deadline = time.monotonic() + 10
    while _alive(component) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _alive(component), "the component outlived the killed CLI"
    # The dead run's deployment is closed by the next command that takes the lock, which then converges.
    fast("deploy", rel, "--env", "dev")
    deps = json.loads(fast("history", "--env", "dev", "--json").stdout)["deployments"]
    assert [d["status"] for d in deps] == ["succeeded", "failed"]
    assert "abandoned" in deps[1]["reason"]
    fast.audit_ok()


def test_terminated_cli_closes_its_deployment_and_stops_its_component(fast: Cli, repo: Path, tmp_path: Path) -> None:
    rel, proc, component = _deploy_with_sleepy_component(fast, repo, tmp_path)
    proc.send_signal(signal.SIGTERM)
    _out, err = proc.communicate(timeout=30)
    assert proc.returncode == 128 + signal.SIGTERM and "Traceback" not in err, err
    assert not _alive(component)
    deps = json.loads(fast("history", "--env", "dev", "--json").stdout)["deployments"]
    assert deps[0]["status"] == "failed" and "SystemExit" in deps[0]["reason"], deps[0]
    assert fast.live_target("dev") is None
    fast.audit_ok()
