"""End-to-end: a temporary git repo driven through the real CLI in subprocesses (real exit codes, locks, SIGKILL)."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import time
from pathlib import Path

import pytest

from northstar_release.tests.helpers import (
    BROKEN_DAG,
    GOOD_DAG,
    Cli,
    airflow_entrypoint,
    commit,
    fake_checker_cmd,
    git,
    make_repo,
    release_id,
)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path)


@pytest.fixture
def fast(repo: Path, tmp_path: Path) -> Cli:
    """CLI with the fake (contract-only) dagbag_check: for policy and exit-code tests."""
    return Cli(repo, tmp_path / "state", fake_checker_cmd(tmp_path))


@pytest.fixture
def real(repo: Path, tmp_path: Path) -> Cli:
    """CLI with the real Airflow dagbag_check entry point."""
    return Cli(repo, tmp_path / "state", airflow_entrypoint())


def digest(cli: Cli, rel: str) -> str:
    return json.loads(cli("show", rel, "--json").stdout)["release"]["artifacts"][0]["sha256"]


def to_prod(cli: Cli, rel: str, approver: str = "bob@northstar.test") -> None:
    cli("deploy", rel, "--env", "dev")
    cli("promote", rel, "--to", "staging")
    cli("--as", approver, "approve", rel, "--env", "prod")
    cli("--as", "carol@northstar.test", "promote", rel, "--to", "prod")


# ------------------------------------------------------------------------------------------------------ happy path ---
def test_full_lifecycle_with_real_airflow(real: Cli, repo: Path) -> None:
    cli = real
    out = json.loads(cli("build", "--json").stdout)
    rel1 = out["release"]["id"]
    assert rel1 == release_id(repo) and out["created"] is True
    again = json.loads(cli("build", "--json").stdout)
    assert again["created"] is False and again["release"] == out["release"]
    d1 = digest(cli, rel1)
    cli.audit_ok()

    cli("deploy", rel1, "--env", "dev")
    assert cli.live_target("dev") == d1
    cli.audit_ok()
    cli("promote", rel1, "--to", "staging")
    assert cli.live_target("staging") == d1
    cli.audit_ok()
    cli("--as", "bob@northstar.test", "approve", rel1, "--env", "prod", "--comment", "reviewed")
    cli.audit_ok()
    cli("--as", "carol@northstar.test", "promote", rel1, "--to", "prod")
    assert cli.live_target("prod") == d1
    cli.audit_ok()
    noop = cli("promote", rel1, "--to", "prod", "--json")
    assert json.loads(noop.stdout)["status"] == "noop"

    # Second release, all the way to prod, then roll prod back to the first.
    (repo / "airflow" / "dags" / "sales_daily.py").write_text(GOOD_DAG.format(dag_id="sales_daily", version=2))
    commit(repo, "v2")
    rel2 = json.loads(cli("build", "--json").stdout)["release"]["id"]
    d2 = digest(cli, rel2)
    assert d2 != d1
    to_prod(cli, rel2)
    assert cli.live_target("prod") == d2
    cli.audit_ok()

    started = time.monotonic()
    rb = json.loads(cli("rollback", "--env", "prod", "--reason", "drill", "--json").stdout)
    elapsed = time.monotonic() - started
    print(f"\n[timing] rollback prod (CLI wall clock incl. post-switch verify): {elapsed:.2f}s; "
          f"evaluator {rb['elapsed_s']}s")  # a measurement, not an assertion
    assert rb["status"] == "succeeded" and rb["release_id"] == rel1
    assert cli.live_target("prod") == d1
    assert cli.live_target("staging") == d2
    cli.audit_ok()
    status = json.loads(cli("status", "--json").stdout)["environments"]
    assert status["prod"]["live_release"] == rel1
    hist = json.loads(cli("history", "--env", "prod", "--json").stdout)["deployments"]
    assert [d["status"] for d in hist][:2] == ["succeeded", "rolled_back"]

    export = json.loads(cli("audit", "export", rel1, "--json").stdout)
    assert export["who"]["author"] == "alice@northstar.test"
    assert export["approvals"]["prod"][0]["approver"] == "bob@northstar.test"
    assert export["audit_chain"]["ok"]
    assert any(g["gate"] == "dag_integrity" for d in export["deployments"]["dev"] for g in d["gate_results"])
    md = cli("audit", "export", rel1, "--format", "markdown").stdout
    assert "# Audit export" in md and d1 in md


def test_broken_dag_bundle_blocks_and_leaves_env_unchanged(real: Cli, repo: Path) -> None:
    cli = real
    cli("build")
    good = release_id(repo)
    cli("deploy", good, "--env", "dev")
    before = cli.live_target("dev")
    (repo / "airflow" / "dags" / "broken.py").write_text(BROKEN_DAG)
    commit(repo, "broken dag")
    cli("build")
    bad = release_id(repo)
    res = cli("deploy", bad, "--env", "dev", expect=1)
    assert "import error" in res.stdout + res.stderr
    assert cli.live_target("dev") == before
    hist = json.loads(cli("history", "--env", "dev", "--json").stdout)["deployments"]
    assert hist[0]["status"] == "blocked"
    cli.audit_ok()


# -------------------------------------------------------------------------------------------------- exit 1 cases ---
def test_promote_to_prod_before_staging_is_blocked(fast: Cli, repo: Path) -> None:
    fast("build")
    rel = release_id(repo)
    fast("deploy", rel, "--env", "dev")
    fast("--as", "bob@northstar.test", "approve", rel, "--env", "prod")
    res = fast("promote", rel, "--to", "prod", expect=1)
    assert "has not succeeded in staging" in res.stderr + res.stdout
    assert fast.live_target("prod") is None
    # --dry-run exits with the code the real command would (1 here), and changes nothing.
    dry = json.loads(fast("promote", rel, "--to", "prod", "--dry-run", "--json", expect=1).stdout)
    assert any("has not succeeded in staging" in n for n in dry["plan"]["notes"])
    assert dry["exit_code"] == 1 and any("has not succeeded in staging" in r for r in dry["would_block"])
    assert fast.live_target("prod") is None
    fast.audit_ok()


def test_self_approval_refused(fast: Cli, repo: Path) -> None:
    fast("build")
    res = fast("--as", "alice@northstar.test", "approve", release_id(repo), "--env", "prod", expect=1)
    assert "self-approval" in res.stderr
    js = json.loads(fast("approve", release_id(repo), "--env", "prod", "--as", "alice@northstar.test", "--json",
                         expect=1).stdout)
    assert js["exit_code"] == 1
    fast.audit_ok()


def test_missing_approval_blocks_prod(fast: Cli, repo: Path) -> None:
    fast("build")
    rel = release_id(repo)
    fast("deploy", rel, "--env", "dev")
    fast("promote", rel, "--to", "staging")
    res = fast("promote", rel, "--to", "prod", "--json", expect=1)
    doc = json.loads(res.stdout)
    assert doc["status"] == "blocked" and any("approver" in r for r in doc["reasons"])
    assert fast.live_target("prod") is None


def test_freeze_window_blocks_prod(fast: Cli, repo: Path) -> None:
    fast("build")
    rel = release_id(repo)
    fast("deploy", rel, "--env", "dev")
    fast("promote", rel, "--to", "staging")
    fast("--as", "bob@northstar.test", "approve", rel, "--env", "prod")
    res = fast("promote", rel, "--to", "prod", expect=1, NORTHSTAR_NOW="2025-03-04T01:30:00Z")
    assert "nightly batch window" in res.stdout
    assert fast.live_target("prod") is None
    fast("promote", rel, "--to", "prod", NORTHSTAR_NOW="2025-03-04T03:00:00Z")
    assert fast.live_target("prod") is not None


def test_finance_release_needs_two_approvers(fast: Cli, repo: Path) -> None:
    fast("build", "--tag", "finance")
    rel = release_id(repo)
    fast("deploy", rel, "--env", "dev")
    fast("promote", rel, "--to", "staging")
    fast("--as", "bob@northstar.test", "approve", rel, "--env", "prod")
    res = fast("promote", rel, "--to", "prod", expect=1)
    assert "needs 2 approver" in res.stdout
    fast("--as", "dave@northstar.test", "approve", rel, "--env", "prod")
    fast("promote", rel, "--to", "prod")


def test_verify_failure_switches_back(fast: Cli, repo: Path) -> None:
    fast("build")
    good = release_id(repo)
    fast("deploy", good, "--env", "dev")
    before = fast.live_target("dev")
    (repo / "airflow" / "dags" / "env_specific.py").write_text("# FAIL_ON_LIVE\n")
    commit(repo, "fails once live")
    fast("build")
    res = fast("deploy", release_id(repo), "--env", "dev", "--json", expect=1)
    doc = json.loads(res.stdout)
    assert doc["status"] == "failed"
    assert fast.live_target("dev") == before
    st = json.loads(fast("status", "--env", "dev", "--json").stdout)["environments"]["dev"]
    assert st["live_release"] == good
    fast.audit_ok()


# -------------------------------------------------------------------------------------------------- exit 2 cases ---
def test_unknown_env_and_release(fast: Cli, repo: Path) -> None:
    fast("build")
    res = fast("deploy", release_id(repo), "--env", "qa", expect=2)
    assert "unknown environment 'qa'" in res.stderr
    res = fast("deploy", "rel-000000000000", "--env", "dev", "--json", expect=2)
    assert "unknown release" in json.loads(res.stdout)["error"]
    fast("show", "rel-nope", expect=2)
    fast("audit", "export", "rel-nope", expect=2)


def test_malformed_environments_yaml(fast: Cli, repo: Path, tmp_path: Path) -> None:
    bad = tmp_path / "envs.yaml"
    bad.write_text("environments:\n  dev: {gates: [dag_integrity]\n")
    res = fast("status", expect=2, NORTHSTAR_ENVIRONMENTS=str(bad))
    assert str(bad) in res.stderr and "malformed YAML" in res.stderr
    bad.write_text("environments:\n  prod: {approvers_required: -1}\n")
    res = fast("status", "--json", expect=2, NORTHSTAR_ENVIRONMENTS=str(bad))
    assert any("environments.prod.approvers_required" in r for r in json.loads(res.stdout)["reasons"])


def test_dirty_tree_refused(fast: Cli, repo: Path) -> None:
    (repo / "airflow" / "dags" / "sales_daily.py").write_text("# edited\n")
    (repo / "airflow" / "dags" / "new.py").write_text("# new\n")
    res = fast("build", expect=2)
    assert "sales_daily.py" in res.stderr and "new.py" in res.stderr


def test_missing_entry_point_is_exit_2(repo: Path, tmp_path: Path) -> None:
    cli = Cli(repo, tmp_path / "state", "")
    cli("build")
    res = cli("deploy", release_id(repo), "--env", "dev", expect=2)
    assert "./pants package airflow:dagbag_check" in res.stderr


# ---------------------------------------------------------------------------------------- exit 3 + crash safety ---
def _wait_for_pause(proc, timeout: float = 60.0) -> str:
    deadline = time.monotonic() + timeout
    lines = []
    assert proc.stderr is not None
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        if not line:
            break
        lines.append(line)
        if line.startswith("PAUSED"):
            return "".join(lines)
    raise AssertionError("process never paused:\n" + "".join(lines))


@pytest.mark.parametrize("pause_at", ["gate", "after:deploy", "after:verify", "record"])
def test_sigkill_mid_deploy_then_rerun_converges(fast: Cli, repo: Path, pause_at: str) -> None:
    fast("build")
    rel1 = release_id(repo)
    fast("deploy", rel1, "--env", "dev")
    old = fast.live_target("dev")
    (repo / "airflow" / "dags" / "sales_daily.py").write_text(GOOD_DAG.format(dag_id="sales_daily", version=3))
    commit(repo, "v3")
    fast("build")
    rel2 = release_id(repo)
    new = digest(fast, rel2)

    proc = fast.popen("deploy", rel2, "--env", "dev", NORTHSTAR_TEST_PAUSE_AT=pause_at,
                      NORTHSTAR_TEST_PAUSE_SECONDS="60")
    try:
        _wait_for_pause(proc)
        # While it holds the lock, a second operation on the env exits 3 ...
        res = fast("deploy", rel2, "--env", "dev", "--json", expect=3)
        assert json.loads(res.stdout)["exit_code"] == 3
        # ... and other environments are not affected.
        fast("promote", rel1, "--to", "staging")
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    assert fast.live_target("dev") in (old, new)  # atomic: old or new, never a mix

    fast("deploy", rel2, "--env", "dev")
    assert fast.live_target("dev") == new
    hist = json.loads(fast("history", "--env", "dev", "--json").stdout)["deployments"]
    assert hist[0]["status"] == "succeeded" and hist[0]["release_id"] == rel2
    assert hist[1]["status"] == "failed" and "abandoned" in hist[1]["reason"]
    assert not any(d["status"] == "running" for d in hist)
    fast.audit_ok()
    assert json.loads(fast("deploy", rel2, "--env", "dev", "--json").stdout)["status"] == "noop"


def test_wait_flag_queues_for_lock(fast: Cli, repo: Path) -> None:
    fast("build")
    rel = release_id(repo)
    proc = fast.popen("deploy", rel, "--env", "dev", NORTHSTAR_TEST_PAUSE_AT="verify",
                      NORTHSTAR_TEST_PAUSE_SECONDS="2")
    _wait_for_pause(proc)
    res = fast("deploy", rel, "--env", "dev", "--wait", "--json")
    proc.wait(timeout=60)
    assert proc.returncode == 0
    assert json.loads(res.stdout)["status"] == "noop"


def test_audit_verify_detects_tampering(fast: Cli, repo: Path) -> None:
    fast("build")
    fast("deploy", release_id(repo), "--env", "dev")
    fast.audit_ok()
    db = fast.state_dir / "state.db"
    conn = sqlite3.connect(db)
    tables = [r[0] for r in conn.execute("select name from sqlite_master where type='table'")]
    audit_table = next(t for t in tables if t.startswith("audit") and "head" not in t)
    for (trigger,) in conn.execute("select name from sqlite_master where type='trigger'").fetchall():
        conn.execute(f"drop trigger {trigger}")
    conn.execute(f"update {audit_table} set actor='mallory' where seq=2")
    conn.commit()
    conn.close()
    res = fast("audit", "verify", "--json", expect=1)
    assert json.loads(res.stdout)["first_broken_seq"] == 2
    assert "seq 2" in fast("audit", "verify", expect=1).stderr



def test_crash_after_switch_then_rollback_starts_from_verified_state(fast: Cli, repo: Path) -> None:
    """A deploy killed after its atomic switch but before RECORD leaves an unverified bundle on disk. The next command on
    the env -- here a rollback, not a re-run -- must first restore the recorded (verified) release, so 'last known-good'
    is computed from what really was live and the interrupted release is never mistaken for it."""
    releases = []
    for version in (4, 5, 6):
        (repo / "airflow" / "dags" / "sales_daily.py").write_text(GOOD_DAG.format(dag_id="sales_daily", version=version))
        commit(repo, f"v{version}")
        fast("build")
        releases.append(release_id(repo))
    known_good, verified_live, interrupted = releases
    fast("deploy", known_good, "--env", "dev")
    fast("deploy", verified_live, "--env", "dev")
    assert fast.live_target("dev") == digest(fast, verified_live)

    proc = fast.popen("deploy", interrupted, "--env", "dev", NORTHSTAR_TEST_PAUSE_AT="after:deploy",
                      NORTHSTAR_TEST_PAUSE_SECONDS="60")
    try:
        _wait_for_pause(proc)
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    assert fast.live_target("dev") == digest(fast, interrupted)  # switched, never verified or recorded

    out = json.loads(fast("rollback", "--env", "dev", "--reason", "after crash", "--json").stdout)
    assert out["release_id"] == known_good  # the release before the verified live one, not the interrupted one
    assert fast.live_target("dev") == digest(fast, known_good)
    hist = json.loads(fast("history", "--env", "dev", "--json").stdout)["deployments"]
    assert any(d["release_id"] == interrupted and "abandoned" in d["reason"] for d in hist)
    assert "recover.switch_back" in fast("audit", "export", verified_live, "--json").stdout
    fast.audit_ok()


def test_contributor_of_a_shipped_commit_cannot_approve(fast: Cli, repo: Path) -> None:
    """Separation of duties covers every author/committer of the commits a release ships (since the commit live in
    prod), not only HEAD's author."""
    fast("build")
    to_prod(fast, release_id(repo))
    (repo / "airflow" / "dags" / "sales_daily.py").write_text(GOOD_DAG.format(dag_id="sales_daily", version=7))
    git(repo, "add", "-A")
    git(repo, "-c", "user.email=carol@northstar.test", "commit", "-q", "-m", "carol's change")
    (repo / "airflow" / "dags" / "sales_daily.py").write_text(GOOD_DAG.format(dag_id="sales_daily", version=8))
    commit(repo, "alice on top")  # HEAD authored by alice
    fast("build")
    rel = release_id(repo)
    shown = json.loads(fast("show", rel, "--json").stdout)["release"]
    assert "carol@northstar.test" in shown["contributors"]
    res = fast("--as", "carol@northstar.test", "approve", rel, "--env", "prod", expect=1)
    assert "authored or committed" in res.stdout + res.stderr
    fast("--as", "bob@northstar.test", "approve", rel, "--env", "prod")


def test_exported_anchor_detects_truncation_that_rewrote_the_stored_head(fast: Cli, repo: Path, tmp_path: Path) -> None:
    """Truncating the log *and* rewriting the head stored beside it fools `audit verify`; an anchor exported earlier
    (`audit anchor`, kept in write-once storage) does not."""
    fast("build")
    rel = release_id(repo)
    fast("deploy", rel, "--env", "dev")
    fast("promote", rel, "--to", "staging")
    anchor_file = tmp_path / "anchor.json"
    exported = json.loads(fast("audit", "anchor", "--output", str(anchor_file), "--json").stdout)["anchor"]
    assert json.loads(anchor_file.read_text())["seq"] == exported["seq"] > 3
    fast("audit", "verify", "--anchor", str(anchor_file))

    keep = exported["seq"] - 2  # drop the last two entries and make the stored head agree with the truncated log
    conn = sqlite3.connect(fast.state_dir / "state.db")
    for (trigger,) in conn.execute("select name from sqlite_master where type='trigger'").fetchall():
        conn.execute(f"drop trigger {trigger}")
    (head_hash,) = conn.execute("select hash from audit where seq = ?", (keep,)).fetchone()
    conn.execute("delete from audit where seq > ?", (keep,))
    conn.execute("update audit_head set seq = ?, hash = ?", (keep, head_hash))
    conn.commit()
    conn.close()

    # The chain alone cannot see a cleanly truncated tail, but the dropped entries vouched for the staging deployment
    # and live pointer, so the table reconciliation does (issue 13) ...
    res = fast("audit", "verify", "--json", expect=1)
    assert json.loads(res.stdout)["scope"] == "state"
    res = fast("audit", "verify", "--anchor", str(anchor_file), "--json", expect=1)  # ... the exported anchor can
    assert json.loads(res.stdout)["ok"] is False
    bad = tmp_path / "not-an-anchor.json"
    bad.write_text("{}")
    fast("audit", "verify", "--anchor", str(bad), expect=2)
