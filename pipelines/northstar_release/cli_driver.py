"""Drive the real ``./release`` CLI as a subprocess from scripts: the demo (``demo.py``) and the benchmarks (``bench/``).

Why a separate, standard-library-only module: the demo and the benchmarks must exercise exactly what a user types
(the wrapper's set-up, argument parsing, exit codes, ``--json`` documents), so they run the CLI as a process rather
than calling the engine in-process. Both need the same few things -- run a command, parse its one JSON document, give
commits a fixed identity, pin the policy clock outside the prod freeze window, walk a release to prod -- and the
benchmarks run under any ``python3`` (no third-party packages), so nothing here may import more than the stdlib.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
RELEASE = REPO / "release"
# prod is frozen 01:00-03:00 UTC (pipelines/environments.yaml); scripted runs pin the policy clock outside that window.
# Every deployment's start entry in the audit log records this override (clock.override) beside the real wall clock.
OUTSIDE_FREEZE = "2026-01-15T12:00:00Z"

AUTHOR = "author@northstar.example"
APPROVER = "approver@northstar.example"
ONCALL = "oncall@northstar.example"


class CommandFailed(RuntimeError):
    """A command that had to succeed did not; the message carries its argv, exit code and output tails."""


def identity_env(email: str = AUTHOR, name: str = "Author") -> dict[str, str]:
    """Git author/committer variables, so commits made by scripts have a known author (= the release's author)."""
    return {"GIT_AUTHOR_NAME": name, "GIT_AUTHOR_EMAIL": email, "GIT_COMMITTER_NAME": name,
            "GIT_COMMITTER_EMAIL": email}


def sh(args: list[str], cwd: Path, env: Mapping[str, str] | None = None) -> str:
    """Run ``args``; return stdout, or raise CommandFailed with both output streams."""
    proc = subprocess.run(args, cwd=cwd, env=dict(os.environ if env is None else env), capture_output=True, text=True)
    if proc.returncode != 0:
        raise CommandFailed(f"command failed ({proc.returncode}): {' '.join(args)}\n{proc.stdout[-2000:]}\n"
                            f"{proc.stderr[-4000:]}")
    return proc.stdout


def git(repo: Path, *args: str, env: Mapping[str, str] | None = None) -> str:
    return sh(["git", *args], repo, env)


def commit_all(repo: Path, message: str, email: str = AUTHOR, env: Mapping[str, str] | None = None) -> str:
    """Stage everything and commit as ``email``; return the new commit sha."""
    full_env = {**(os.environ if env is None else env), **identity_env(email, email.split("@")[0].title())}
    git(repo, "add", "-A", env=full_env)
    git(repo, "commit", "-qm", message, env=full_env)
    return git(repo, "rev-parse", "HEAD", env=full_env).strip()


def make_dag_repo(root: Path) -> Path:
    """A throwaway git repository holding this repo's DAGs, legacy DAGs (and their exemptions), pipeline catalog and
    environments file, committed as v1.

    Why here: the DAG-only benchmarks (rollback, health watch, hotfix) time the release machinery, not the warehouse,
    so they share one minimal repository shape instead of each copying it."""
    repo = root / "repo"
    # The DAG bundle's sources plus what its DagBag check reads (the catalog's SLAs, the legacy exemptions).
    for rel in ("airflow/dags", "legacy/legacy_dags", "pipelines/catalog/pipelines"):
        if (REPO / rel).is_dir():
            shutil.copytree(REPO / rel, repo / rel)
    (repo / "pipelines").mkdir(parents=True, exist_ok=True)
    for rel in ("pipelines/environments.yaml", "legacy/dag_exemptions.yaml"):
        if (REPO / rel).is_file():
            shutil.copy(REPO / rel, repo / rel)
    git(repo, "init", "-q", "-b", "main")
    commit_all(repo, "v1", AUTHOR)
    return repo


def parse_json_document(stdout: str) -> dict[str, Any] | None:
    """The CLI's ``--json`` output is exactly one JSON document; None when stdout is not one JSON object."""
    text = stdout.strip()
    if not text:
        return None
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        return None
    return value if isinstance(value, dict) else None


@dataclass
class CliCall:
    """One finished ``./release`` invocation."""

    argv: list[str]
    exit_code: int
    doc: dict[str, Any] | None  # the --json document (None if stdout was not one JSON object)
    stdout: str
    stderr: str
    seconds: float  # wall time of the whole process, interpreter start-up included

    @property
    def ok(self) -> bool:
        return self.exit_code == 0

    def describe_failure(self) -> str:
        reasons = (self.doc or {}).get("reasons") or []
        error = (self.doc or {}).get("error") or ""
        tail = self.stderr.strip().splitlines()[-8:]
        parts = [f"exit {self.exit_code}"] + ([error] if error else []) + [str(r) for r in reasons[:5]]
        if not error and not reasons:
            parts += tail
        return "; ".join(parts)


@dataclass
class ReleaseCli:
    """Runs ``<release> [--as ACTOR] ARGS --json`` with ``cwd`` as the repository it operates on."""

    cwd: Path
    env: Mapping[str, str]
    release: Path = RELEASE
    actor: str = AUTHOR
    # Called with each stderr line as it arrives (progress streaming); None collects silently.
    on_stderr: Callable[[str], None] | None = None
    calls: list[CliCall] = field(default_factory=list)

    def call(self, *args: str, actor: str | None = None, json_out: bool = True) -> CliCall:
        argv = [str(self.release), "--as", actor or self.actor, *args] + (["--json"] if json_out else [])
        started = time.monotonic()
        proc = subprocess.Popen(argv, cwd=self.cwd, env=dict(self.env), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        out_chunks: list[str] = []
        # Read stdout on a thread so a large JSON document can never block the child while we stream stderr.
        reader = threading.Thread(target=lambda: out_chunks.append(proc.stdout.read() if proc.stdout else ""),
                                  daemon=True)
        reader.start()
        err_lines: list[str] = []
        assert proc.stderr is not None
        for line in proc.stderr:
            err_lines.append(line)
            if self.on_stderr is not None:
                self.on_stderr(line.rstrip("\n"))
        code = proc.wait()
        reader.join()
        stdout = "".join(out_chunks)
        result = CliCall(argv=argv, exit_code=code, doc=parse_json_document(stdout) if json_out else None,
                         stdout=stdout, stderr="".join(err_lines), seconds=time.monotonic() - started)
        self.calls.append(result)
        return result

    def must(self, *args: str, actor: str | None = None) -> dict[str, Any]:
        """Run and return the JSON document; raise CommandFailed unless it exited 0 with one JSON document."""
        result = self.call(*args, actor=actor)
        if result.exit_code != 0 or result.doc is None:
            raise CommandFailed(f"./release {' '.join(args)}: {result.describe_failure()}")
        return result.doc


def ship_to_prod(cli: ReleaseCli, release_id: str, approvers: Iterable[str] = (APPROVER,)) -> None:
    """dev -> staging -> approval(s) by someone other than the author -> prod; raises CommandFailed on any refusal."""
    cli.must("deploy", release_id, "--env", "dev")
    cli.must("promote", release_id, "--to", "staging")
    for approver in approvers:
        cli.must("approve", release_id, "--env", "prod", actor=approver)
    cli.must("promote", release_id, "--to", "prod")
