"""Hostile input through the real CLI (issue 14, deliver 4): strict YAML, escaped markup, non-UTF-8 arguments, JSON
usage errors, no checkout, approvals nobody needs -- each refused cleanly (exit 2, no traceback, nothing written)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from northstar_release.tests.helpers import ENVIRONMENTS_YAML, Cli, Result, fake_checker_cmd, make_repo, release_id


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path)


@pytest.fixture
def fast(repo: Path, tmp_path: Path) -> Cli:
    return Cli(repo, tmp_path / "state", fake_checker_cmd(tmp_path))


def clean(res: Result) -> Result:
    """No Python traceback and no internal-error catch-all reached the user."""
    out = res.stdout + res.stderr
    assert "Traceback" not in out and "internal error" not in out, out
    return res


def test_duplicate_key_in_environments_yaml_is_refused_before_anything_is_written(fast: Cli, tmp_path: Path) -> None:
    envs = tmp_path / "envs.yaml"
    # The attack from the issue: a second `prod:` block silently replaced the first, dropping approval and freeze.
    envs.write_text(ENVIRONMENTS_YAML.read_text() + "  prod:\n    previous: staging\n")
    res = clean(fast("status", expect=2, NORTHSTAR_ENVIRONMENTS=str(envs)))
    line = len(ENVIRONMENTS_YAML.read_text().splitlines()) + 1
    assert str(envs) in res.stderr and "duplicate key" in res.stderr and f"line {line}" in res.stderr
    assert "'prod'" in res.stderr
    assert not fast.state_dir.exists()  # nothing written
    doc = json.loads(clean(fast("build", "--json", expect=2, NORTHSTAR_ENVIRONMENTS=str(envs))).stdout)
    assert doc["exit_code"] == 2 and any("duplicate key" in r for r in doc["reasons"])
    assert not fast.state_dir.exists()


def test_non_utf8_environments_yaml_names_file_line_and_rule(fast: Cli, tmp_path: Path) -> None:
    envs = tmp_path / "envs.yaml"
    envs.write_bytes(b"environments:\n  dev: {}\n  # caf\xe9\n")
    res = clean(fast("status", expect=2, NORTHSTAR_ENVIRONMENTS=str(envs)))
    assert str(envs) in res.stderr and "line 3" in res.stderr and "not UTF-8" in res.stderr
    envs.write_bytes(b"environments:\n  dev: {}\x07\n")
    res = clean(fast("status", expect=2, NORTHSTAR_ENVIRONMENTS=str(envs)))
    assert "forbidden character U+0007" in res.stderr and "line 2" in res.stderr
    assert not fast.state_dir.exists()


def test_rich_markup_in_arguments_is_printed_literally(fast: Cli, repo: Path) -> None:
    res = clean(fast("show", "[/]", expect=2))
    assert "unknown release '[/]'" in res.stderr
    res = clean(fast("show", "[bold]x[/bold] :x:", expect=2))
    assert "'[bold]x[/bold] :x:'" in res.stderr
    fast("build")
    rel = release_id(repo)
    # An identity made of markup is a (strange but valid) approver: recorded once, printed literally, chain intact.
    res = clean(fast("--as", "[/]", "approve", rel, "--env", "prod"))
    assert "by [/]" in res.stdout
    approvals = json.loads(fast("show", rel, "--json").stdout)["approvals"]["prod"]
    assert [a["approver"] for a in approvals] == ["[/]"]
    fast.audit_ok()


def test_approval_for_an_env_that_needs_none_is_refused_and_not_stored(fast: Cli, repo: Path) -> None:
    fast("build")
    rel = release_id(repo)
    res = clean(fast("--as", "[/]", "approve", rel, "--env", "dev", expect=2))
    assert "dev needs no approval" in res.stderr and "prod" in res.stderr
    doc = json.loads(fast("show", rel, "--json").stdout)
    assert doc["approvals"]["dev"] == []
    audit = json.loads(fast("audit", "verify", "--json").stdout)
    assert audit["ok"] is True


def test_argument_with_an_undecodable_byte_is_refused(fast: Cli, repo: Path) -> None:
    env = fast.env()
    for extra in ([], ["--json"]):
        argv: list[str | bytes] = [*fast.cmd("show"), b"rel-\xff", *extra]
        proc = subprocess.run(argv, cwd=repo, env=env, capture_output=True, timeout=120)
        out = (proc.stdout + proc.stderr).decode("utf-8", "replace")
        assert proc.returncode == 2 and "Traceback" not in out, out
        assert "not valid UTF-8" in out and "\\xff" in out
        if extra:
            assert json.loads(proc.stdout)["exit_code"] == 2
    assert not fast.state_dir.exists()


@pytest.mark.parametrize("args", [
    ["status", "--json", "--bogus"],
    ["promote", "--json"],
    ["--json", "nonsense-command"],
    ["rollback", "--env", "prod", "--json"],
])
def test_usage_errors_under_json_are_one_json_document(fast: Cli, args: list[str]) -> None:
    res = clean(fast(*args, expect=2))
    doc = json.loads(res.stdout)
    assert doc["ok"] is False and doc["exit_code"] == 2 and doc["error"].startswith("usage:")


def test_outside_a_git_checkout_commands_refuse(fast: Cli, tmp_path: Path) -> None:
    elsewhere = tmp_path / "not-a-checkout"
    elsewhere.mkdir()
    env = {k: v for k, v in fast.env().items() if k != "NORTHSTAR_STATE_DIR"}
    for args in (["status"], ["show", "rel-x"], ["build"]):
        proc = subprocess.run(fast.cmd(*args), cwd=elsewhere, env=env, capture_output=True, text=True, timeout=120)
        assert proc.returncode == 2, proc.stderr
        assert "is not inside a git checkout" in proc.stderr and "Traceback" not in proc.stderr
    assert os.listdir(elsewhere) == []


def test_dry_run_exits_with_the_code_of_the_real_command(fast: Cli, repo: Path) -> None:
    fast("build")
    rel = release_id(repo)
    fast("deploy", rel, "--env", "dev")
    fast("promote", rel, "--to", "staging")
    # prod needs an approval: the real promote is blocked (1), so the dry run says 1 too and changes nothing.
    dry = clean(fast("--as", "carol@northstar.test", "promote", rel, "--to", "prod", "--dry-run", expect=1))
    assert "WOULD BE BLOCKED" in dry.stderr
    real = fast("--as", "carol@northstar.test", "promote", rel, "--to", "prod", "--json", expect=1)
    assert json.loads(real.stdout)["status"] == "blocked"
    fast("--as", "bob@northstar.test", "approve", rel, "--env", "prod")
    doc = json.loads(fast("--as", "carol@northstar.test", "promote", rel, "--to", "prod", "--dry-run", "--json").stdout)
    assert doc["exit_code"] == 0 and doc["would_block"] == []
    assert fast.live_target("prod") is None
