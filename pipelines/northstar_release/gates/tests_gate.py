"""tests: a release enters an environment only if the tests of what it changes passed at the release's commit.

What runs: ``./pants --changed-since=BASE --changed-dependents=transitive test`` -- the tests of every target the
release changes and of everything that depends on them, transitively (Pants' own dependency graph: Python imports,
BUILD dependencies, the dbt_project and airflow_dags target types). BASE is the commit of the release live in the
furthest environment that has one (``GateContext.baseline_commit``: prod, else staging...), so the set covers every
change the release carries into any environment; with nothing live anywhere, the merge-base of the commit with
``main`` if that is an older commit, else the commit's parent, else (a root commit) every test (``::``).

Where: at the release's commit. When the repository's checkout is exactly that commit with a clean tree (the usual
case: ``./release build`` refuses a dirty tree), in place, so pantsd and Pants' cache make a re-run cheap; otherwise
in a temporary ``git worktree`` of the commit. Evidence: base, command, the test targets with their outcome and
duration, counts and wall time. A repository without ``./pants`` has no Pants test targets: the gate says so.

The slowest gate (minutes when a change reaches the dbt project), so it gives way: once another gate of the same plan
has blocked the release, its Pants run is interrupted and it fails saying so (``GateContext.blocked``); the release is
blocked either way, and its tests run in full on the next release once the other gates pass.

Environment-independent: the verdict depends only on the commit and its base, so a promotion of the same release
reuses it with a pointer to the original evidence (ADR 0006).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from northstar_release.gates.base import GateContext
from northstar_release.model import ArtifactKind, GateOutcome, GateResult

PANTS = "./pants"
TIMEOUT_S = float(os.environ.get("NORTHSTAR_TESTS_GATE_TIMEOUT", "3600"))
POLL_S = 0.5  # how often a running Pants is checked against the timeout and GateContext.blocked
# Pants' per-target summary lines: "✓ dbt:tests succeeded in 3.21s." / "✕ spark:tests failed in 1.02s (cached)."
_LINE = re.compile(r"^\s*(✓|✕|-|x)\s+(\S+)\s+(succeeded|failed|skipped|timed out)(?:\s+in\s+([\d.]+)s)?(.*)$")


@dataclass
class TestRun:
    """What one Pants test run reported, per target."""

    exit_code: int
    targets: dict[str, dict[str, object]] = field(default_factory=dict)
    seconds: float = 0.0
    tail: list[str] = field(default_factory=list)
    stopped: bool = False  # interrupted because another gate had already blocked the release

    @property
    def failed(self) -> list[str]:
        return sorted(t for t, r in self.targets.items() if r["outcome"] in ("failed", "timed out"))

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for r in self.targets.values():
            out[str(r["outcome"])] = out.get(str(r["outcome"]), 0) + 1
        return out


def parse_pants_test_output(text: str) -> dict[str, dict[str, object]]:
    """target -> {outcome, seconds, cached} from Pants' summary lines."""
    out: dict[str, dict[str, object]] = {}
    for line in text.splitlines():
        m = _LINE.match(line)
        if m:
            out[m.group(2)] = {"outcome": m.group(3), "seconds": float(m.group(4)) if m.group(4) else None,
                               "cached": "cached" in m.group(5) or "memoized" in m.group(5)}
    return out


def choose_base(repo: Path, commit: str, baseline: str | None) -> tuple[str | None, str]:
    """(base commit or None for every test, why)."""
    if baseline and baseline != commit:
        return baseline, f"the commit live in the furthest environment ({baseline[:12]})"
    if baseline == commit:
        return commit, "the same commit is already live: only what differs from it (nothing) is re-tested"
    for ref in ("main", "origin/main"):
        proc = subprocess.run(["git", "-C", str(repo), "merge-base", commit, ref], capture_output=True, text=True)
        base = proc.stdout.strip()
        if proc.returncode == 0 and base and base != commit:
            return base, f"merge-base with {ref} ({base[:12]}): nothing is live yet"
    proc = subprocess.run(["git", "-C", str(repo), "rev-parse", "--verify", "--quiet", f"{commit}^"],
                          capture_output=True, text=True)
    if proc.returncode == 0 and proc.stdout.strip():
        return proc.stdout.strip(), f"the commit's parent ({proc.stdout.strip()[:12]}): nothing is live yet"
    return None, "root commit and nothing live: every test"


def _clean_at(repo: Path, commit: str) -> bool:
    head = subprocess.run(["git", "-C", str(repo), "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
    dirty = subprocess.run(["git", "-C", str(repo), "status", "--porcelain", "--untracked-files=no"],
                           capture_output=True, text=True).stdout.strip()
    return head == commit and not dirty


def run_pants_tests(workdir: Path, base: str | None, daemon: bool = True,
                    stop: threading.Event | None = None) -> TestRun:
    """``daemon=False`` for a throw-away checkout: a pantsd started there would outlive the folder it serves.

    ``stop``: once set (another gate blocked the release), Pants is interrupted (SIGINT, as Ctrl-C: it cancels the
    run and its test processes; SIGKILL if it has not exited 15 s later) and the run reports ``stopped``."""
    args = [PANTS] + ([] if daemon else ["--no-pantsd"])
    args += [f"--changed-since={base}", "--changed-dependents=transitive", "test"] if base else ["test", "::"]
    started = time.monotonic()
    proc = subprocess.Popen(args, cwd=workdir, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    ended: str | None = None
    while True:
        try:
            out, err = proc.communicate(timeout=POLL_S)  # retrying after a timeout loses no output
            break
        except subprocess.TimeoutExpired:
            if ended is None and stop is not None and stop.is_set():
                ended = "stopped"
            elif ended is None and time.monotonic() - started > TIMEOUT_S:
                ended = "timed out"
            else:
                continue
            proc.send_signal(signal.SIGINT)
            try:
                out, err = proc.communicate(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                out, err = proc.communicate()
            break
    output = err + "\n" + out
    run = TestRun(exit_code=proc.returncode, targets=parse_pants_test_output(output),
                  seconds=round(time.monotonic() - started, 3), tail=output.strip().splitlines()[-20:])
    if ended == "timed out":
        run.exit_code, run.tail = 124, [*run.tail, f"pants test timed out after {TIMEOUT_S:.0f}s"]
    run.stopped = ended == "stopped" and proc.returncode != 0  # a run that still finished cleanly counts
    return run


class TestsGate:
    name = "tests"
    description = ("the tests of the targets the release changes, with transitive dependents (./pants "
                   "--changed-since=BASE --changed-dependents=transitive test), pass at the release's commit")

    kind = ArtifactKind("source")  # examines the commit's sources, not one artifact kind
    environment_dependent = False

    def evaluate(self, ctx: GateContext) -> list[GateResult]:
        commit = ctx.release.git_commit
        target = f"{ctx.release.id}@{commit[:12]}"
        repo = ctx.repo
        if repo is None:
            return [GateResult(gate=self.name, target=target, outcome=GateOutcome.FAILED,
                               summary="tests gate: the runtime names no git repository, cannot check out the commit")]
        listed = subprocess.run(["git", "-C", str(repo), "cat-file", "-e", f"{commit}:pants"], capture_output=True)
        if listed.returncode != 0:
            return [GateResult(gate=self.name, target=target, outcome=GateOutcome.PASSED,
                               summary=f"commit {commit[:12]} has no ./pants: the repository has no Pants test "
                                       "targets to run", evidence={"pants": False})]
        base, why = choose_base(repo, commit, ctx.baseline_commit)
        if _clean_at(repo, commit):
            run, where = run_pants_tests(repo, base, stop=ctx.blocked), "the repository checkout (clean, at the commit)"
        else:
            tmp = Path(tempfile.mkdtemp(prefix="tests-gate-"))
            work = tmp / "checkout"
            try:
                subprocess.run(["git", "-C", str(repo), "worktree", "add", "--detach", "--quiet", str(work), commit],
                               check=True, capture_output=True)
                run, where = (run_pants_tests(work, base, daemon=False, stop=ctx.blocked),
                              "a temporary git worktree of the commit")
            finally:
                subprocess.run(["git", "-C", str(repo), "worktree", "remove", "--force", str(work)],
                               capture_output=True)
                shutil.rmtree(tmp, ignore_errors=True)
        counts = run.counts()
        ok = run.exit_code == 0 and not run.failed
        evidence: dict[str, object] = {
            "commit": commit, "base": base, "base_reason": why, "where": where,
            "command": f"{PANTS} --changed-since={base} --changed-dependents=transitive test" if base
            else f"{PANTS} test ::", "exit_code": run.exit_code, "targets": run.targets, "counts": counts,
            "failed": run.failed, "duration_s": run.seconds}
        if not ok:
            evidence["output_tail"] = run.tail
        if run.stopped:
            evidence["stopped"] = True
            summary = (f"stopped after {run.seconds:.1f}s: another gate had already blocked the release, so it cannot "
                       f"enter {ctx.env.env} whatever the tests say ({len(run.targets)} target(s) had finished, "
                       f"{len(run.failed)} failed); they run in full once the other gates pass")
        elif ok:
            summary = (f"{len(run.targets)} test target(s) passed at {commit[:12]} (changed since {why}; "
                       f"{sum(1 for r in run.targets.values() if r['cached'])} from Pants' cache) in {run.seconds:.1f}s")
        elif run.failed:
            summary = f"{len(run.failed)} test target(s) failed at {commit[:12]}: {', '.join(run.failed[:10])}"
        else:
            summary = f"pants test exited {run.exit_code} at {commit[:12]}: {' | '.join(run.tail[-3:])}"
        return [GateResult(gate=self.name, target=target, outcome=GateOutcome.PASSED if ok else GateOutcome.FAILED,
                           summary=summary, evidence=evidence)]
