"""The CLI's first line starts the warm processes a switching command will need (``early_warm``), and the runner
adopts exactly those -- same command, environment and working directory -- or starts its own.

The entry point is the miniature warm-start entry of ``test_warm_start`` (a real subprocess speaking the protocol)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from northstar_release import early_warm
from northstar_release.kinds.registry import KINDS
from northstar_release.runner import SubprocessComponentRunner
from northstar_release.tests.test_warm_start import ENTRY, PIPELINES

KEY = ("echo", "plan")


def test_the_constant_names_every_warm_start_the_kind_registry_declares() -> None:
    declared = {(spec.entry_point, spec.warm_start) for spec in KINDS if spec.warm_start}
    assert set(early_warm.WARM_STARTS) == declared


@pytest.mark.parametrize("args, command", [
    (["rollback", "--env", "prod", "--reason", "x"], "rollback"),
    (["--as", "oncall@northstar.example", "rollback", "--env", "prod"], "rollback"),
    (["--as", "rollback", "status"], None),  # an actor named like a command is the option's value
    (["--state-dir", "/tmp/s", "promote", "rel-1", "--to", "prod", "--json"], "promote"),
    (["deploy", "rel-1", "--env", "dev"], "deploy"),
    (["rollback", "--env", "prod", "--dry-run"], None),
    (["promote", "--help"], None),
    (["status"], None),
    (["audit", "verify"], None),
    ([], None),
])
def test_only_commands_that_switch_start_anything(args: list[str], command: str | None) -> None:
    assert early_warm.switching_command(args) == command


@pytest.fixture
def checkout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Path, dict[str, str]]]:
    """A git checkout as the current directory, an environment naming the echo entry point, and WARM_STARTS = echo."""
    repo = tmp_path / "repo"
    repo.mkdir()
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    script = tmp_path / "echo_entry.py"
    script.write_text(ENTRY)
    environ = {**os.environ, "NORTHSTAR_ENTRYPOINT_ECHO": f"{sys.executable} {script}",
               "PYTHONPATH": os.pathsep.join([str(PIPELINES), os.environ.get("PYTHONPATH", "")])}
    monkeypatch.chdir(repo)
    monkeypatch.setattr(early_warm, "WARM_STARTS", (KEY,))
    yield repo.resolve(), environ
    for warm in early_warm._started.values():  # noqa: SLF001 - leave nothing running for the next test
        warm.kill()
    early_warm._started.clear()  # noqa: SLF001


def test_the_runner_adopts_the_process_started_at_the_first_line(checkout: tuple[Path, dict[str, str]]) -> None:
    repo, environ = checkout
    assert early_warm.start_for(["rollback", "--env", "prod"], environ) == [KEY]
    early = early_warm._started[KEY].proc  # noqa: SLF001 - the process itself is what is checked
    time.sleep(0.5)  # the CLI's own imports
    runner = SubprocessComponentRunner(repo, environ=environ)
    runner.prestart(*KEY)
    called_at = time.time()
    result = runner.run("echo", ["plan", "--env", "prod"])
    assert result.payload["pid"] == early.pid and result.payload["started"] < called_at
    assert result.payload["args"] == ["plan", "--env", "prod"]


def test_a_process_started_otherwise_than_the_runner_would_is_not_adopted(checkout: tuple[Path, dict[str, str]],
                                                                          ) -> None:
    repo, environ = checkout
    early_warm.start_for(["promote", "rel-1", "--to", "prod"], environ)
    early = early_warm._started[KEY].proc  # noqa: SLF001
    runner = SubprocessComponentRunner(repo, environ={**environ, "NORTHSTAR_ACTOR": "someone-else"})
    runner.prestart(*KEY)
    result = runner.run("echo", ["plan"])
    assert result.payload["pid"] != early.pid  # a different environment: the runner's own process served it
    assert early.wait(timeout=5) == 0  # the early one was told it is not needed, and exited quietly


def test_nothing_starts_for_a_dry_run_another_command_or_when_disabled(checkout: tuple[Path, dict[str, str]]) -> None:
    _, environ = checkout
    assert early_warm.start_for(["rollback", "--env", "prod", "--dry-run"], environ) == []
    assert early_warm.start_for(["status"], environ) == []
    assert early_warm.start_for(["rollback", "--env", "prod"], {**environ, early_warm.DISABLE_VAR: "0"}) == []
    assert not early_warm._started  # noqa: SLF001
