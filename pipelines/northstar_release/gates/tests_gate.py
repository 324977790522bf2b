"""tests: a release enters an environment only if the tests of what it changes passed at the release's commit.

What runs: ``./pants --changed-since=BASE --changed-dependents=transitive list``, then ``./pants test`` of the file
targets it lists -- the tests of every target the release changes and of everything that depends on them,
transitively (Pants' own dependency graph: Python imports, BUILD dependencies, the dbt_project and airflow_dags
target types); not ``--changed-since ... test`` in one step, which also runs every file of each listed target
generator (``file_targets``). BASE is the commit of the release live in the
furthest environment that has one (``GateContext.baseline_commit``: prod, else staging...), so the set covers every
change the release carries into any environment; with nothing live anywhere, the merge-base of the commit with
``main`` if that is an older commit, else the commit's parent, else (a root commit) every test (``::``).

Where: at the release's commit. When the repository's checkout is exactly that commit with a clean tree (the usual
case: ``./release build`` refuses a dirty tree), in place, so pantsd and Pants' cache make a re-run cheap; otherwise
in a temporary ``git worktree`` of the commit. Evidence: base, command, the test targets with their outcome and
duration, the failing tests by name (Pants' JUnit reports), counts and wall time. A repository without ``./pants``
has no Pants test targets: the gate says so.

The slowest gate (minutes when a change reaches the dbt project), so it gives way: once another gate of the same plan
has blocked the release, its Pants run is interrupted and it fails saying so (``GateContext.blocked``); the release is
blocked either way, and its tests run in full on the next release once the other gates pass.

The verdict depends only on the commit and its base, and the base is what is live: a promotion of the same release
reuses it, with a pointer to the original evidence (ADR 0006), while the base is the same or the commit itself is
already live; when the base moved in between (a hotfix reached prod), the tests of what now differs run.
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
import xml.etree.ElementTree as ET  # noqa: S405 - our own Pants run's reports
from dataclasses import dataclass, field
from pathlib import Path

from northstar_release.gates.base import GateContext, mark_reused
from northstar_release.model import ArtifactKind, GateOutcome, GateResult

PANTS = "./pants"
TIMEOUT_S = float(os.environ.get("NORTHSTAR_TESTS_GATE_TIMEOUT", "3600"))
POLL_S = 0.5  # how often a running Pants is checked against the timeout and GateContext.blocked
# Pants' per-target summary lines: "✓ dbt:tests succeeded in 3.21s." / "✕ spark:tests failed in 1.02s (cached)." and,
# for a batch of files run in one process, "✕ spark/x/test_a.py:../../tests and 7 other files failed in 363.87s."
_LINE = re.compile(r"^\s*(✓|✕|-|x)\s+(\S+)(?:\s+and\s+(\d+)\s+other\s+files?)?\s+(succeeded|failed|skipped|timed out)"
                   r"(?:\s+in\s+([\d.]+)s)?(.*)$")


@dataclass
class TestRun:
    """What one Pants test run reported, per target."""

    exit_code: int
    targets: dict[str, dict[str, object]] = field(default_factory=dict)
    seconds: float = 0.0
    tail: list[str] = field(default_factory=list)
    stopped: bool = False  # interrupted because another gate had already blocked the release
    addresses: list[str] = field(default_factory=list)  # the file targets the change reaches (``pants list``)
    failed_tests: list[str] = field(default_factory=list)  # ``module::test`` from the JUnit reports

    @property
    def failed(self) -> list[str]:
        return sorted(t for t, r in self.targets.items() if r["outcome"] in ("failed", "timed out"))

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for r in self.targets.values():
            out[str(r["outcome"])] = out.get(str(r["outcome"]), 0) + 1
        return out


def parse_pants_test_output(text: str) -> dict[str, dict[str, object]]:
    """target -> {outcome, seconds, cached[, batch_of]} from Pants' summary lines (a batch under its first file)."""
    out: dict[str, dict[str, object]] = {}
    for line in text.splitlines():
        m = _LINE.match(line)
        if m:
            out[m.group(2)] = {"outcome": m.group(4), "seconds": float(m.group(5)) if m.group(5) else None,
                               "cached": "cached" in m.group(6) or "memoized" in m.group(6),
                               **({"batch_of": int(m.group(3)) + 1} if m.group(3) else {})}
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


def file_targets(listed: str) -> list[str]:
    """The file-level targets of a ``pants list`` output. Why not ``pants --changed-since test`` directly: the
    changed-dependents of a test file include its target *generator* (``pipelines:tests`` depends on every file it
    generates), and ``test`` expands a generator to all its files -- one changed Spark job ran the engine's whole
    suite. Every test target here is generated per file (no ``python_test`` stands alone), so the file targets are
    exactly the tests the change reaches."""
    return [a for a in (line.strip() for line in listed.splitlines())
            if a and "#" not in a and Path(a.split(":", 1)[0]).suffix]


def failing_test_cases(report_dir: Path) -> list[str]:
    """``module::test`` of every failing or erroring test case in the JUnit reports Pants wrote: the evidence that
    names the test, also inside a batch (Pants reports a batch of files as one line: "X and 7 other files failed")."""
    found: list[str] = []
    for report in sorted(report_dir.rglob("*.xml")):
        try:
            root = ET.parse(report).getroot()  # noqa: S314 - reports our own Pants run just wrote
        except ET.ParseError:
            continue
        for case in root.iter("testcase"):
            if case.find("failure") is not None or case.find("error") is not None:
                found.append(f"{case.get('classname', '?')}::{case.get('name', '?')}")
    return found


def _run(args: list[str], workdir: Path, started: float, stop: threading.Event | None) -> tuple[int, str, str, str | None]:
    """(exit code, stdout, stderr, None | "stopped" | "timed out"): one Pants process, interrupted (SIGINT as Ctrl-C:
    Pants cancels the run and its test processes; SIGKILL 15 s later) once ``stop`` is set or the gate's time is up."""
    proc = subprocess.Popen(args, cwd=workdir, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    ended: str | None = None
    while True:
        try:
            out, err = proc.communicate(timeout=POLL_S)  # retrying after a timeout loses no output
            break
        except subprocess.TimeoutExpired:
            if stop is not None and stop.is_set():
                ended = "stopped"
            elif time.monotonic() - started > TIMEOUT_S:
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
    if ended == "stopped" and proc.returncode == 0:
        ended = None  # it finished cleanly as it was interrupted: the result stands
    return proc.returncode, out, err, ended


def run_pants_tests(workdir: Path, base: str | None, daemon: bool = True,
                    stop: threading.Event | None = None) -> TestRun:
    """``pants list`` of what changed since ``base`` with its transitive dependents, then ``pants test`` of those file
    targets (every test when ``base`` is None). ``daemon=False`` for a throw-away checkout: a pantsd started there would
    outlive the folder it serves. ``stop``: once set (another gate blocked the release), the run is interrupted and
    reports ``stopped``."""
    prefix = [PANTS] + ([] if daemon else ["--no-pantsd"])
    started = time.monotonic()
    run = TestRun(exit_code=0)
    if base:
        code, out, err, ended = _run([*prefix, f"--changed-since={base}", "--changed-dependents=transitive", "list"],
                                     workdir, started, stop)
        run.addresses = file_targets(out) if code == 0 and ended is None else []
        if code != 0 or ended is not None or not run.addresses:
            run.exit_code, run.tail = code, (err.strip().splitlines()[-20:] if code else [])
            return _finish(run, ended, started)
        targets = run.addresses
    else:
        targets = ["::"]
    reports = Path("dist") / "tests-gate" / f"{os.getpid()}-{time.time_ns()}"
    try:
        code, out, err, ended = _run([*prefix, "test", "--test-report", f"--test-report-dir={reports}", *targets],
                                     workdir, started, stop)
        run.failed_tests = failing_test_cases(workdir / reports)
    finally:
        shutil.rmtree(workdir / reports, ignore_errors=True)
    output = err + "\n" + out
    run.exit_code, run.targets, run.tail = code, parse_pants_test_output(output), output.strip().splitlines()[-20:]
    return _finish(run, ended, started)


def _finish(run: TestRun, ended: str | None, started: float) -> TestRun:
    run.seconds = round(time.monotonic() - started, 3)
    if ended == "timed out":
        run.exit_code, run.tail = 124, [*run.tail, f"pants test timed out after {TIMEOUT_S:.0f}s"]
    run.stopped = ended == "stopped"
    return run


def _same_base(ctx: GateContext, base: str | None) -> list[GateResult]:
    """The previous env's passed verdict, re-pointed at its audit entry, when it still answers this env's question:
    it was computed against the same base, or the base is the release's own commit (it is live in an env it entered
    through this gate, so nothing it changes is untested). Else [] and the tests run against the new base."""
    ref, commit = ctx.prior_ref, ctx.release.git_commit
    if ref is None or not ctx.prior or any(r.outcome != GateOutcome.PASSED for r in ctx.prior):
        return []
    if base == commit:
        return mark_reused(ctx.prior, ref, why=f"{commit[:12]} is already live in an environment it entered through "
                                               "this gate")
    if all(r.evidence.get("base", "?") == base for r in ctx.prior):
        return mark_reused(ctx.prior, ref, why=f"same commit, same base {(base or 'every test')[:12]}")
    return []


class TestsGate:
    name = "tests"
    description = ("the tests of the targets the release changes, with transitive dependents (./pants "
                   "--changed-since=BASE --changed-dependents=transitive test), pass at the release's commit")

    kind = ArtifactKind("source")  # examines the commit's sources, not one artifact kind
    # The verdict is a function of (commit, base), and the base is what is live: reused only for the same base
    # (``_same_base``), so a base that moved since (a hotfix in prod) runs the tests of what now differs.
    environment_dependent = True

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
        reused = _same_base(ctx, base)
        if reused:
            return reused
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
        ok = run.exit_code == 0 and not run.failed and not run.failed_tests
        evidence: dict[str, object] = {
            "commit": commit, "base": base, "base_reason": why, "where": where,
            "command": (f"{PANTS} --changed-since={base} --changed-dependents=transitive list, then {PANTS} test "
                        f"<the {len(run.addresses)} file target(s) it lists>") if base else f"{PANTS} test ::",
            "exit_code": run.exit_code, "targets": run.targets, "counts": counts, "failed": run.failed,
            "failed_tests": run.failed_tests[:50], "duration_s": run.seconds,
            **({"reached": run.addresses} if base else {})}
        if not ok:
            evidence["output_tail"] = run.tail
        if run.stopped:
            evidence["stopped"] = True
            summary = (f"stopped after {run.seconds:.1f}s: another gate had already blocked the release, so it cannot "
                       f"enter {ctx.env.env} whatever the tests say ({len(run.targets)} target(s) had finished, "
                       f"{len(run.failed)} failed); they run in full once the other gates pass")
        elif ok and base and not run.addresses:
            summary = f"the change since {why} reaches no test target"
        elif ok:
            summary = (f"{len(run.targets)} test target(s) passed at {commit[:12]} (changed since {why}; "
                       f"{sum(1 for r in run.targets.values() if r['cached'])} from Pants' cache) in {run.seconds:.1f}s")
        elif run.failed:
            summary = (f"{len(run.failed)} test target(s) failed at {commit[:12]}: {', '.join(run.failed[:10])}"
                       + (f"; failing tests: {', '.join(run.failed_tests[:5])}" if run.failed_tests else ""))
        else:
            summary = f"pants test exited {run.exit_code} at {commit[:12]}: {' | '.join(run.tail[-3:])}"
        return [GateResult(gate=self.name, target=target, outcome=GateOutcome.PASSED if ok else GateOutcome.FAILED,
                           summary=summary, evidence=evidence)]
