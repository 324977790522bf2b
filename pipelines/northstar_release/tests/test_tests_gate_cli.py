"""The tests gate through the real CLI and real Pants: a Spark job change whose own unit test fails is blocked at dev.

Why outside ``./pants test``: the gate runs ``./pants`` in a git checkout of the release's commit, and a Pants test
sandbox is neither a checkout (no ``.git``) nor a place Pants can run. ``./run-tests`` runs this file after
``./pants lint check test ::``, from the checkout, with the tools resolve's exported virtualenv and
``NORTHSTAR_TEST_PANTS=1``; anywhere else it is skipped.

What is real: a local clone of the checkout's HEAD with one commit on top (the demo's Spark edits of (b) and (c2):
``daily_revenue`` stops lower-casing ``status``, so ``SHIPPED`` orders no longer count: the job's unit test with
exact values fails, while its output schema and the verifier's lowercase fixture do not notice), the checkout's
``./release`` wrapper (its own set-up, ``build``, ``deploy``, ``audit``), and Pants in the clone (``list`` of what
changed since HEAD with its transitive dependents, then ``test`` of those files; the Spark tests run Spark in local
mode). Dev runs the tests gate alone (``NORTHSTAR_ENVIRONMENTS``): the other gates are shown by the demo and their
own tests, and alone this one must be what blocks.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
import yaml

from northstar_release.cli_driver import OUTSIDE_FREEZE, ReleaseCli, commit_all, git
from northstar_release.demo.edits import (
    DEMO_AUTHOR as AUTHOR,
)
from northstar_release.demo.edits import (
    SPARK_JOB,
    SPARK_TEST_MODULE,
    SPARK_UNIT_TEST,
    break_spark_job,
    change_spark_job,
    edit,
)
from northstar_release.tests.helpers import REPO

pytestmark = pytest.mark.skipif(
    os.environ.get("NORTHSTAR_TEST_PANTS") != "1" or not (REPO / ".git").exists(),
    reason="runs ./release and ./pants in a clone of this checkout: ./run-tests runs it after the Pants suite")


def test_a_spark_job_whose_unit_test_fails_is_blocked_at_dev(tmp_path: Path) -> None:
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", "--local", str(REPO), str(clone)], check=True)
    git(clone, "checkout", "-q", "-B", "main")  # the gate's base with nothing live: the merge-base with main
    base = git(clone, "rev-parse", "HEAD").strip()
    git(clone, "checkout", "-q", "-b", "spark-bug")
    edit(clone, SPARK_JOB, lambda source: break_spark_job(change_spark_job(source)))  # the demo's (b) then (c2) edit

    environments = yaml.safe_load((REPO / "pipelines" / "environments.yaml").read_text())
    for env in environments["environments"].values():
        env["gates"] = ["tests"]
    (tmp_path / "environments.yaml").write_text(yaml.safe_dump(environments))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PANTS_TEST_", "NORTHSTAR_TEST_"))}
    env.update(NORTHSTAR_STATE_DIR=str(tmp_path / "state"), NORTHSTAR_NOW=OUTSIDE_FREEZE,
               NORTHSTAR_ENVIRONMENTS=str(tmp_path / "environments.yaml"),
               PANTS_PANTSD="false")  # no daemon left serving a clone that is deleted after the test
    commit_all(clone, "daily_revenue matches status case-sensitively", AUTHOR, env)
    cli = ReleaseCli(clone, env, actor=AUTHOR)

    release = cli.must("build")["release"]["id"]
    deploy = cli.call("deploy", release, "--env", "dev")
    doc = deploy.doc or {}
    assert deploy.exit_code == 1 and doc.get("status") == "blocked", deploy.describe_failure()
    failed = [g for g in doc["gate_results"] if g["outcome"] == "failed"]
    assert [g["gate"] for g in failed] == ["tests"], failed
    evidence = failed[0]["evidence"]
    assert evidence["base"] == base and evidence["command"].startswith(f"./pants --changed-since={base} ")
    assert f"{SPARK_TEST_MODULE}::test_transform_exact_values_and_schema" in evidence["failed_tests"], evidence
    assert all(t.startswith(SPARK_TEST_MODULE + "::") for t in evidence["failed_tests"]), evidence["failed_tests"]
    assert "stopped" not in evidence
    reached = evidence["reached"]
    assert {SPARK_UNIT_TEST, "spark/northstar_spark/tests/test_verify.py:../../tests",  # dependents too
            "pipelines/northstar_release/tests/test_spark_adapter.py:../../tests"} <= set(reached), reached
    # ... and only them: not every file of a target generator that owns one dependent (pipelines:tests)
    assert "pipelines/northstar_release/tests/test_cli_e2e.py:../../tests" not in reached

    assert cli.must("status", "--env", "dev")["environments"]["dev"]["live_release"] is None  # nothing went live
    assert cli.must("audit", "verify")["ok"]
    exported = cli.must("audit", "export", release)
    assert SPARK_UNIT_TEST in str(exported), "the failing target is not in the release's audit evidence"
