"""The health and hotfix policies as data: environments.yaml validation, and the post-hoc review ledger computed from
a scripted (real, hash-chained) audit chain -- on time, late, overdue, not an emergency, env without a policy."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from northstar_release import hotfix
from northstar_release.audit import GENESIS, compute_hash
from northstar_release.environments import load_environments
from northstar_release.errors import ConfigError
from northstar_release.model import Approval, AuditEntry, Release
from northstar_release.tests.helpers import ENVIRONMENTS_YAML

T0 = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)


def test_shipped_policies() -> None:
    envs = load_environments(ENVIRONMENTS_YAML)
    prod = envs["prod"]
    assert prod.health is not None and prod.health.auto_rollback and prod.health.budget_block
    assert (prod.health.watch, prod.health.baseline) == ("2d", "14d")
    assert prod.hotfix is not None and prod.hotfix.approvers_required == 1 and prod.hotfix.review_within == "24h"
    assert envs["dev"].health is None and envs["staging"].hotfix is None


@pytest.mark.parametrize("snippet, key", [
    ("health: {watch: 2 days}", "environments.prod.health.watch"),
    ("health: {auto_rollback: sometimes}", "environments.prod.health.auto_rollback"),
    ("health: {rollback: true}", "environments.prod.health.rollback: unknown key"),
    ("hotfix: {approvers_required: 0}", "environments.prod.hotfix.approvers_required"),
    ("hotfix: {review_within: 0h}", "environments.prod.hotfix.review_within"),
])
def test_bad_policy_names_file_key_and_rule(tmp_path: Path, snippet: str, key: str) -> None:
    text = ENVIRONMENTS_YAML.read_text()
    text = "\n".join(line for line in text.splitlines() if not line.startswith(("    health:", "    hotfix:")))
    path = tmp_path / "environments.yaml"
    path.write_text(text + f"\n    {snippet}\n")
    with pytest.raises(ConfigError) as err:
        load_environments(path)
    assert any(str(path) in r and key in r for r in err.value.reasons), err.value.reasons


def _chain(events: list[tuple[datetime, str, str, str, str]]) -> list[AuditEntry]:
    entries, prev = [], GENESIS
    for seq, (at, actor, action, rid, env) in enumerate(events, start=1):
        payload: dict[str, Any] = {"deployment_id": seq}
        digest = compute_hash(seq=seq, at=at, actor=actor, action=action, release_id=rid, env=env, payload=payload,
                              prev_hash=prev)
        entries.append(AuditEntry(seq=seq, at=at, actor=actor, action=action, release_id=rid, env=env,
                                  payload=payload, prev_hash=prev, hash=digest))
        prev = digest
    return entries


def _release(rid: str, *tags: str) -> Release:
    return Release(id=rid, git_commit=rid * 4, author="dev@northstar.example", created_at=T0, artifacts=(),
                   tags=tags)


def test_review_ledger_on_time_late_overdue() -> None:
    envs = load_environments(ENVIRONMENTS_YAML)
    releases = {r.id: r for r in (_release("h1", "hotfix"), _release("h2", "hotfix"), _release("h3", "hotfix"),
                                  _release("n1"))}
    h = timedelta(hours=1)
    chain = _chain([
        (T0, "ci", "deploy.succeeded", "h1", "prod"),
        (T0 + 2 * h, "bob", hotfix.REVIEW_ACTION, "h1", "prod"),  # on time
        (T0 + 3 * h, "ci", "promote.succeeded", "h2", "prod"),
        (T0 + 30 * h, "bob", hotfix.REVIEW_ACTION, "h2", "prod"),  # 27 h after: late
        (T0 + 4 * h, "ci", "deploy.succeeded", "h3", "prod"),  # never reviewed
        (T0 + 5 * h, "ci", "promote.succeeded", "n1", "prod"),  # not an emergency change
        (T0 + 6 * h, "ci", "deploy.succeeded", "h3", "dev"),  # dev has no hotfix policy
    ])
    due = {(r.release_id, r.env): r for r in hotfix.reviews(chain, releases, envs)}
    assert set(due) == {("h1", "prod"), ("h2", "prod"), ("h3", "prod")}
    now = T0 + 48 * h
    assert not due[("h1", "prod")].overdue(now) and due[("h1", "prod")].reviewer == "bob"
    assert due[("h2", "prod")].overdue(now) and due[("h2", "prod")].to_json(now)["late"] is True
    assert due[("h3", "prod")].overdue(now) and not due[("h3", "prod")].overdue(T0 + 27 * h)
    assert due[("h3", "prod")].due_at == T0 + 28 * h


def test_oncall_approval_rules() -> None:
    prod = load_environments(ENVIRONMENTS_YAML)["prod"]
    rel = _release("h1", "hotfix").model_copy(update={"contributors": ("pair@northstar.example",)})

    def ok(*who: str) -> list[str]:
        return hotfix.approval_reasons(prod, rel, [Approval(release_id="h1", env="prod", approver=w, at=T0)
                                                   for w in who])

    assert ok("oncall@northstar.example") == []
    assert ok("ONCALL@northstar.example ") == []  # normalized like every approver
    assert ok("bob@northstar.example")[1].endswith("not an on-call reviewer for emergency changes in prod "
                                                   "(oncall@northstar.example)")
    assert "separation of duties" in ok("dev@northstar.example")[1]
    assert ok()[0].startswith("emergency change h1 needs 1 approval(s) by an on-call reviewer")
    assert hotfix.applies(rel, prod) and not hotfix.applies(_release("n1"), prod)
