"""The tests gate: which base it diffs against, how it reads Pants' results, and (by hand, with real Pants) that a
failing unit test of a changed target blocks.

Pants cannot run inside a Pants test sandbox, so the real-Pants test runs only with ``NORTHSTAR_TEST_PANTS=1`` from a
checkout (``pytest pipelines/northstar_release/tests/test_tests_gate.py``): it clones this repository, commits a
failing test into a small target and runs the gate there -- real ``./pants --changed-since ... test``.
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from northstar_release.adapters.base import EnvContext
from northstar_release.gates.base import GateContext
from northstar_release.gates.tests_gate import TestsGate, choose_base, file_targets, parse_pants_test_output
from northstar_release.model import EvidenceRef, GateOutcome, GateResult, Release
from northstar_release.tests.helpers import REPO, commit, git, make_repo

# Pants 2.17's summary, as printed by `./pants test` (captured from this repository).
PANTS_OUTPUT = """\
04:55:54.71 [INFO] Completed: Run Pytest - dbt/northstar_dq/tests/test_keys.py:../../dq_tests - succeeded.
04:55:58.10 [ERROR] Completed: Run Pytest - pipelines/northstar_contracts/tests/test_canary.py:../../contracts_tests - failed (exit code 1).

✓ dbt/northstar_dq/tests/test_keys.py:../../dq_tests succeeded in 5.55s.
✓ pipelines/northstar_contracts/tests/test_records.py:../../contracts_tests succeeded in 0.82s (cached).
✕ pipelines/northstar_contracts/tests/test_canary.py:../../contracts_tests failed in 1.20s.
"""


def release_at(repo: Path) -> Release:
    sha = git(repo, "rev-parse", "HEAD")
    return Release(id="rel-" + sha[:12], git_commit=sha, author="alice@northstar.test",
                   created_at=datetime(2026, 1, 1, tzinfo=UTC), artifacts=())


def context(release: Release, repo: Path, tmp: Path, baseline: str | None = None) -> GateContext:
    env = EnvContext(env="dev", env_dir=tmp, artifact_path=lambda a: tmp, runner=None)  # type: ignore[arg-type]
    return GateContext(release, env, {}, baseline_commit=baseline, repo=repo)


def test_parse_pants_summary() -> None:
    targets = parse_pants_test_output(PANTS_OUTPUT)
    assert targets["dbt/northstar_dq/tests/test_keys.py:../../dq_tests"] == {
        "outcome": "succeeded", "seconds": 5.55, "cached": False}
    assert targets["pipelines/northstar_contracts/tests/test_records.py:../../contracts_tests"]["cached"] is True
    assert targets["pipelines/northstar_contracts/tests/test_canary.py:../../contracts_tests"]["outcome"] == "failed"
    assert len(targets) == 3  # the [INFO]/[ERROR] log lines are not results


def test_base_is_the_live_commit_else_merge_base_else_parent_else_everything(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    root = git(repo, "rev-parse", "HEAD")
    assert choose_base(repo, root, None) == (None, "root commit and nothing live: every test")
    (repo / "a.txt").write_text("a")
    second = commit(repo, "second")
    assert choose_base(repo, second, root)[0] == root
    assert choose_base(repo, second, None)[0] == root  # on main: the parent
    git(repo, "checkout", "-q", "-b", "feature")
    (repo / "b.txt").write_text("b")
    commit(repo, "b")
    (repo / "c.txt").write_text("c")
    head = commit(repo, "c")
    base, why = choose_base(repo, head, None)
    assert base == second and why.startswith("merge-base with main")


def test_repository_without_pants_has_no_test_targets(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    (result,) = TestsGate().evaluate(context(release_at(repo), repo, tmp_path))
    assert result.outcome == GateOutcome.PASSED and "has no ./pants" in result.summary


@pytest.mark.skipif(os.environ.get("NORTHSTAR_TEST_PANTS") != "1",
                    reason="runs ./pants, impossible inside a Pants sandbox; run by hand with NORTHSTAR_TEST_PANTS=1")
def test_failing_unit_test_of_a_changed_target_blocks_with_real_pants(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PANTS_PANTSD", "false")  # no daemon left behind for the throw-away clone
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", "--local", str(REPO), str(clone)], check=True)
    git(clone, "config", "user.email", "alice@northstar.test")
    git(clone, "config", "user.name", "alice")
    base = git(clone, "rev-parse", "HEAD")
    canary = clone / "pipelines" / "northstar_contracts" / "tests" / "test_canary.py"
    canary.write_text("def test_canary() -> None:\n    assert 1 + 1 == 3\n")
    commit(clone, "a failing unit test in a changed target")
    (result,) = TestsGate().evaluate(context(release_at(clone), clone, tmp_path, baseline=base))
    assert result.outcome == GateOutcome.FAILED, (result.summary, result.evidence.get("output_tail"))
    assert "pipelines/northstar_contracts/tests/test_canary.py:../../contracts_tests" in result.evidence["failed"]
    assert result.evidence["base"] == base and result.evidence["duration_s"] > 0
    assert result.evidence["counts"].get("failed") == 1
    assert result.evidence["failed_tests"] == ["pipelines.northstar_contracts.tests.test_canary::test_canary"]

    canary.write_text("def test_canary() -> None:\n    assert 1 + 1 == 2\n")
    commit(clone, "fixed")
    (result,) = TestsGate().evaluate(context(release_at(clone), clone, tmp_path, baseline=base))
    assert result.outcome == GateOutcome.PASSED, result.summary
    canary_target = "pipelines/northstar_contracts/tests/test_canary.py:../../contracts_tests"
    assert result.evidence["targets"][canary_target]["outcome"] == "succeeded"
    assert result.evidence["failed"] == [] and result.evidence["failed_tests"] == []


SLOW_PANTS = """#!/usr/bin/env bash
# Stands in for ./pants: `list` names a generator and two file targets; `test` finishes one target, then runs long
# and ends on SIGINT as Pants does on Ctrl-C.
if [[ " $* " == *" list "* ]]; then
  printf '%s\\n' spark:tests spark/northstar_spark/tests/test_verify.py:../../tests 3rdparty/python:spark#pyspark
  exit 0
fi
echo "$*" > pants-test-args
trap 'echo "Interrupted by user." >&2; exit 130' INT
echo "✓ spark/northstar_spark/tests/test_verify.py:../../tests succeeded in 1.20s." >&2
for _ in $(seq 600); do sleep 0.1; done
echo "✓ late:tests succeeded in 60.00s." >&2
"""


def _slow_pants(tmp_path: Path) -> Path:
    (tmp_path / "pants").write_text(SLOW_PANTS)
    (tmp_path / "pants").chmod(0o755)
    return tmp_path


def test_a_run_is_interrupted_once_another_gate_has_blocked_the_release(tmp_path: Path) -> None:
    from northstar_release.gates.tests_gate import run_pants_tests

    stop = threading.Event()
    threading.Timer(1.0, stop.set).start()
    started = time.monotonic()
    run = run_pants_tests(_slow_pants(tmp_path), "abc123", stop=stop)
    assert time.monotonic() - started < 20, "the run was not interrupted"
    assert run.stopped and run.exit_code == 130
    assert list(run.targets) == ["spark/northstar_spark/tests/test_verify.py:../../tests"]  # what finished first
    assert "Interrupted by user." in run.tail
    # `test` got the listed file target only: not the generator (all its files) nor the requirement
    args = (tmp_path / "pants-test-args").read_text().split()
    assert args[0] == "test" and args[-1] == "spark/northstar_spark/tests/test_verify.py:../../tests"
    assert "spark:tests" not in args and run.addresses == [args[-1]]


def test_file_targets_are_kept_and_generators_dropped() -> None:
    listed = "pipelines:tests\npipelines/northstar_release/tests/test_demo.py:../../tests\n3rdparty/python:tools#rich\n" \
             "dbt/models/marts/fct_orders.sql:../../project\nspark:daily_revenue\n"
    assert file_targets(listed) == ["pipelines/northstar_release/tests/test_demo.py:../../tests",
                                      "dbt/models/marts/fct_orders.sql:../../project"]


def test_a_batch_of_files_is_one_result_under_its_first_file() -> None:
    line = "✕ spark/northstar_spark/tests/test_daily_revenue.py:../../tests and 7 other files failed in 363.87s."
    assert parse_pants_test_output(line) == {"spark/northstar_spark/tests/test_daily_revenue.py:../../tests": {
        "outcome": "failed", "seconds": 363.87, "cached": False, "batch_of": 8}}


def test_a_run_past_the_timeout_is_interrupted_and_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from northstar_release.gates import tests_gate

    monkeypatch.setattr(tests_gate, "TIMEOUT_S", 1.0)
    run = tests_gate.run_pants_tests(_slow_pants(tmp_path), "abc123", stop=threading.Event())
    assert run.exit_code == 124 and not run.stopped and "timed out after 1s" in run.tail[-1]


def test_a_stopped_run_fails_the_gate_and_says_why(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    base = git(repo, "rev-parse", "HEAD")
    _slow_pants(repo)
    commit(repo, "the repository now has ./pants")
    release = release_at(repo)
    env = EnvContext(env="dev", env_dir=tmp_path, artifact_path=lambda a: tmp_path, runner=None)  # type: ignore[arg-type]
    blocked = threading.Event()
    blocked.set()  # another gate of the plan has already blocked the release
    ctx = GateContext(release, env, {}, baseline_commit=base, repo=repo, blocked=blocked)
    (result,) = TestsGate().evaluate(ctx)
    assert result.outcome == GateOutcome.FAILED and result.evidence["stopped"] is True
    assert result.summary.startswith("stopped after") and "another gate had already blocked" in result.summary


def test_a_promotion_reuses_the_verdict_only_while_the_base_is_the_same(tmp_path: Path) -> None:
    """Dev's verdict answers "do the tests of what changed since BASE pass at COMMIT?": staging and prod reuse it
    while their base is the same (or the commit itself is live already); once the base moved (a hotfix went to prod
    in between), the tests of what now differs run."""
    repo = make_repo(tmp_path)
    live = git(repo, "rev-parse", "HEAD")
    _slow_pants(repo)
    commit(repo, "the repository now has ./pants")
    hotfix = git(repo, "rev-parse", "HEAD")
    (repo / "airflow" / "dags" / "extra.txt").write_text("a change\n")
    commit(repo, "the release's change")
    release = release_at(repo)
    ref = EvidenceRef(env="dev", deployment_id=4, audit_seq=110, audit_hash="a" * 64)
    passed = GateResult(gate="tests", target=release.id, outcome=GateOutcome.PASSED, summary="32 test target(s) passed",
                        evidence={"base": live})
    env = EnvContext(env="prod", env_dir=tmp_path, artifact_path=lambda a: tmp_path, runner=None)  # type: ignore[arg-type]
    blocked = threading.Event()
    blocked.set()  # were the tests to run, they stop at once (and fail): a run is told apart from a reuse

    def evaluate(baseline: str) -> GateResult:
        ctx = GateContext(release, env, {}, prior=(passed,), prior_ref=ref, baseline_commit=baseline, repo=repo,
                          blocked=blocked)
        (result,) = TestsGate().evaluate(ctx)
        return result

    same = evaluate(live)
    assert same.reused_from == ref and same.outcome == GateOutcome.PASSED and "same base" in same.summary
    itself = evaluate(release.git_commit)
    assert itself.reused_from == ref and "already live in an environment" in itself.summary
    moved = evaluate(hotfix)
    assert moved.reused_from is None and moved.evidence["base"] == hotfix and moved.evidence.get("stopped") is True
