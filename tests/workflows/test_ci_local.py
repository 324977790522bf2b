"""scripts/ci-local's runner: GitHub's expression and step semantics, run for real on a small workflow, and the real
pull-request workflow's steps in order (dry run) plus its PR-comment step printing the Markdown locally."""

from __future__ import annotations

import os
import subprocess
import textwrap
from pathlib import Path

import pytest

from workflows.ci_local import Run, WorkflowError, condition, evaluate, github_context, interpolate, load_workflow, main

CTX = {"github": {"event_name": "pull_request", "base_ref": "main", "event": {"action": "closed", "number": 7}},
       "inputs": {"release": "rel-0123456789ab"}, "secrets": {}, "env": {"A": "1"}, "steps": {}}


@pytest.mark.parametrize("expression, expected", [
    ("github.event.action == 'closed'", True),
    ("github.event.action != 'CLOSED'", False),  # string comparison ignores case, as on GitHub
    ("github.event.number", 7),
    ("github.missing.deeper", None),
    ("secrets.NORTHSTAR_STATE_URL", None),
    ("!(github.base_ref == 'main') || inputs.release", "rel-0123456789ab"),
    ("github.base_ref == 'main' && env.A", "1"),
    ("startsWith(inputs.release, 'rel-') && contains(github.base_ref, 'mai')", True),
    ("format('pr_{0}', github.event.number)", "pr_7"),
    ("fromJSON('[1, 2]')[1]", 2),
    ("github['event']['action']", "closed"),
])
def test_expressions(expression: str, expected: object) -> None:
    assert evaluate(expression, CTX) == expected


def test_interpolation_and_conditions() -> None:
    assert interpolate("pr-${{ github.event.number }}-${{ secrets.X }}", CTX) == "pr-7-"
    assert condition("github.event.action == 'closed'", CTX, failed=False)
    assert not condition("${{ github.event.action == 'closed' }}", CTX, failed=True)  # success() implied
    assert condition("always()", CTX, failed=True) and condition("failure()", CTX, failed=True)
    with pytest.raises(WorkflowError, match="not supported"):
        evaluate("hashFiles('x')", CTX)
    with pytest.raises(WorkflowError, match="cannot parse"):
        evaluate("github.event ~ 1", CTX)


WORKFLOW = """
name: t
on:
  pull_request:
permissions: {}
defaults:
  run:
    shell: bash
env:
  LEVEL: workflow
  SECRET: ${{ secrets.TOKEN }}
jobs:
  first:
    runs-on: ubuntu-24.04
    env:
      LEVEL: job
    outputs:
      answer: ${{ steps.compute.outputs.answer }}
    steps:
      - uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683
      - id: compute
        env:
          BASE: ${{ github.base_ref }}
        run: |
          echo "answer=42-${BASE}" >> "$GITHUB_OUTPUT"
          echo "FROM_ENV_FILE=carried" >> "$GITHUB_ENV"
          echo "level=${LEVEL} secret=[${SECRET}] local=${CI_LOCAL}" >> log.txt
      - run: echo "next step sees ${FROM_ENV_FILE}" >> log.txt
  second:
    needs: first
    runs-on: ubuntu-24.04
    steps:
      - env:
          ANSWER: ${{ needs.first.outputs.answer }}
        run: echo "second got ${ANSWER}" >> log.txt
      - run: false | true
      - run: echo "not reached" >> log.txt
      - if: failure()
        run: echo "cleanup after failure" >> log.txt
  skipped:
    if: github.event.action == 'closed'
    runs-on: ubuntu-24.04
    steps:
      - run: echo "must not run" >> log.txt
"""


def _repo(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    (repo / ".github" / "workflows").mkdir(parents=True)
    (repo / ".github" / "workflows" / "t.yml").write_text(WORKFLOW)
    subprocess.run(["git", "init", "-q", "-b", "feature", str(repo)], check=True)
    return repo


def test_runs_steps_in_order_with_github_semantics(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    path = repo / ".github" / "workflows" / "t.yml"
    gh = github_context(repo, "pull_request", None, "main", 7, str(tmp_path), {})
    lines: list[str] = []
    run = Run(load_workflow(path), path, gh, out=lines.append)
    assert run.run(None) == 1  # `false | true` fails under pipefail, as with GitHub's `shell: bash`
    log = (repo / "log.txt").read_text().splitlines()
    assert log == ["level=job secret=[] local=1", "next step sees carried", "second got 42-main",
                   "cleanup after failure"]
    assert any("skipping `uses: actions/checkout@" in line for line in lines)
    assert any("job skipped: skipped" in line for line in lines)
    assert run.needs["first"] == {"result": "success", "outputs": {"answer": "42-main"}}
    assert run.needs["second"]["result"] == "failure"


def test_job_selection_pulls_in_needed_jobs_and_refuses_unknown(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    path = repo / ".github" / "workflows" / "t.yml"
    gh = github_context(repo, "pull_request", None, "main", 7, str(tmp_path), {})
    run = Run(load_workflow(path), path, gh, dry_run=True, out=lambda line: None)
    assert run.run(["second"]) == 0
    assert [s.splitlines()[0] for s in run.executed][:1] == ['echo "answer=42-${BASE}" >> "$GITHUB_OUTPUT"']
    with pytest.raises(WorkflowError, match="unknown job"):
        run.run(["nope"])
    assert main([str(path), "--job", "nope"]) == 2


def test_pull_request_workflow_steps_in_order(capsys: pytest.CaptureFixture[str]) -> None:
    path = Path(".github/workflows/pull-request.yml")
    gh = github_context(Path.cwd(), "pull_request", "synchronize", "main", 12, "/tmp/runner", {})
    run = Run(load_workflow(path), path, gh, dry_run=True, out=lambda line: None)
    assert run.run(None) == 0
    assert run.executed == [
        "./scripts/install-system-deps",
        './pants --changed-since="origin/${BASE_REF}" --changed-dependents=transitive lint check test',
        './release plan --since "origin/${BASE_REF}" --markdown > "${RUNNER_TEMP}/release-plan.md"',
        '.github/scripts/pr-comment "${RUNNER_TEMP}/release-plan.md"',
        '.github/scripts/pr-env up "${PR_NUMBER}"',
    ]
    closed = Run(load_workflow(path), path, github_context(Path.cwd(), "pull_request", "closed", "main", 12,
                                                           "/tmp/runner", {}), dry_run=True, out=lambda line: None)
    assert closed.run(None) == 0 and closed.executed == ['.github/scripts/pr-env down "${PR_NUMBER}"']


def test_pr_comment_step_prints_the_markdown_locally(tmp_path: Path) -> None:
    plan = tmp_path / "release-plan.md"
    plan.write_text("## Release plan\n\n| unit | gates |\n|---|---|\n| dag_bundle | dag_integrity |\n")
    script = Path(".github/scripts/pr-comment")
    os.chmod(script, 0o755)
    env = {**os.environ, "CI_LOCAL": "1", "PR_NUMBER": "12", "GH_TOKEN": ""}
    proc = subprocess.run([str(script), str(plan)], capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "<!-- northstar-release-plan -->\n" + plan.read_text()
    assert "would post this comment on PR #12" in proc.stderr
    empty = tmp_path / "empty.md"
    empty.write_text("")
    assert subprocess.run([str(script), str(empty)], capture_output=True, env=env).returncode == 2


def test_bad_workflow_file_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yml"
    bad.write_text(textwrap.dedent("""\
        name: x
        on: push
    """))
    assert main([str(bad)]) == 2
