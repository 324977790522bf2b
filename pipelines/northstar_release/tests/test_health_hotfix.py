"""The hotfix lane through the real CLI and SQLite state: an emergency release goes straight to prod with one on-call
approval (every prod gate still runs), and its post-hoc review is mandatory -- ``audit verify`` reports it overdue."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from northstar_release.environments import load_environments
from northstar_release.tests.helpers import ENVIRONMENTS_YAML, GOOD_DAG, Cli, commit, fake_checker_cmd, make_repo

ONCALL = "oncall@northstar.example"  # prod's hotfix.oncall in pipelines/environments.yaml
LATER = (datetime.now(UTC) + timedelta(days=2)).replace(hour=12, minute=0, second=0, microsecond=0).isoformat()


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    repo = make_repo(tmp_path)
    return Cli(repo, tmp_path / "state", fake_checker_cmd(tmp_path))


def test_emergency_release_to_prod_with_oncall_approval_and_posthoc_review(cli: Cli) -> None:
    r1 = json.loads(cli("build", "--json").stdout)["release"]["id"]
    cli("deploy", r1, "--env", "dev")
    (cli.repo / "airflow" / "dags" / "sales_daily.py").write_text(GOOD_DAG.format(dag_id="sales_daily", version=2))
    commit(cli.repo, "fix: the emergency")
    r2 = json.loads(cli("build", "--emergency", "--json").stdout)["release"]
    assert "hotfix" in r2["tags"]
    rid = r2["id"]

    dry = json.loads(cli("deploy", rid, "--env", "prod", "--dry-run", "--json", expect=1).stdout)
    names = [s["name"] for s in dry["plan"]["stages"]]
    assert "check:previous_env" not in names and "check:approvals" in names  # no dev/staging detour
    prod_gates = load_environments(ENVIRONMENTS_YAML)["prod"].gates
    assert len(prod_gates) >= 6 and [n for n in names if n.startswith("gate:")] == [
        f"gate:{g}" for g in prod_gates]  # every gate prod declares still runs, in its order
    assert dry["would_block"][0].startswith(f"emergency change {rid} needs 1 approval(s) by an on-call reviewer")

    cli("--as", "bob@northstar.test", "approve", rid, "--env", "prod")  # not on call: not counted
    blocked = json.loads(cli("deploy", rid, "--env", "prod", "--json", expect=1).stdout)
    assert any("bob@northstar.test ignored: not an on-call reviewer" in r for r in blocked["reasons"])
    cli("--as", ONCALL, "approve", rid, "--env", "prod", "--comment", "paged, diff read")
    done = json.loads(cli("deploy", rid, "--env", "prod", "--json").stdout)
    assert done["status"] == "succeeded"
    assert {g["gate"] for g in done["gate_results"]} >= {"secret_scan", "dag_integrity"}
    assert json.loads(cli("status", "--json").stdout)["environments"]["prod"]["live_release"] == rid

    pending = json.loads(cli("hotfix", "pending", "--json").stdout)
    [row] = pending["reviews"]
    assert row["release_id"] == rid and row["env"] == "prod" and row["reviewed_at"] is None and not row["overdue"]
    due = datetime.fromisoformat(row["due_at"]) - datetime.fromisoformat(row["deployed_at"])
    assert due == timedelta(hours=24)
    cli("audit", "verify")

    # Two days later (policy clock) the review is overdue: audit verify and hotfix pending say so, exit 1.
    late = cli("audit", "verify", "--json", expect=1, NORTHSTAR_NOW=LATER)
    doc = json.loads(late.stdout)
    assert not doc["problem"] and not doc["ok"] and [r["release_id"] for r in doc["overdue_reviews"]] == [rid]
    human = cli("audit", "verify", expect=1, NORTHSTAR_NOW=LATER).stderr
    assert "1 emergency change review(s) overdue" in human and f"./release hotfix review {rid}" in human
    cli("hotfix", "pending", expect=1, NORTHSTAR_NOW=LATER)

    # The author may not review their own emergency change; someone else records it (at real time: not late).
    refused = json.loads(cli("hotfix", "review", rid, "--comment", "mine", "--json", expect=1).stdout)
    assert "self-review" in refused["reasons"][0]
    ok = json.loads(cli("--as", "bob@northstar.test", "hotfix", "review", rid, "--comment", "root cause: typo",
                        "--json").stdout)
    assert ok["added"] and not ok["late"]
    again = json.loads(cli("--as", "bob@northstar.test", "hotfix", "review", rid, "--comment", "x", "--json").stdout)
    assert again["added"] is False
    cli("audit", "verify", NORTHSTAR_NOW=LATER)
    assert json.loads(cli("hotfix", "pending", "--json", NORTHSTAR_NOW=LATER).stdout)["overdue"] == []

    # A release that is not an emergency change has nothing to review (exit 2, nothing recorded).
    bad = json.loads(cli("--as", "bob@northstar.test", "hotfix", "review", r1, "--comment", "x", "--json",
                         expect=2).stdout)
    assert "is not an emergency change in prod" in bad["error"]
