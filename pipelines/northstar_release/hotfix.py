"""The hotfix lane: emergency changes to prod within minutes, with SOX emergency-change controls (issue 12).

Policy (an env opts in with ``hotfix:`` in environments.yaml; see ``model.HotfixPolicy``):
- A release is an emergency change when it carries the ``hotfix`` tag (``./release build --emergency`` or
  ``--tag hotfix``). The tag is in the release record and its ``release.build`` audit entry: it cannot be added later.
- Into an env with a hotfix policy it may go straight from the commit: the previous-env requirement is waived. Every
  gate the env declares still runs -- the environment-independent ones (secret scan, DagBag integrity) run afresh
  because there is no earlier evidence to reuse, and the env's own gates run as always -- and VERIFY still follows the
  switch. What changes is who decides: ``approvers_required`` (default 1) approvals by the ``oncall`` reviewers (never
  the author or a contributor: separation of duties still applies) replace the env's usual approval count; the
  error-budget block does not apply (a fix must be able to ship); freeze windows still do (rollback is the exit
  that ignores them).
- A mandatory post-hoc review: ``./release hotfix review RELEASE --env prod`` by someone other than the author records
  ``hotfix.review`` in the audit chain; it is due ``review_within`` after the release's ``<action>.succeeded`` in that
  env. ``./release audit verify`` and ``./release hotfix pending`` report every review that is overdue.

Why a separate module: ``policy.py`` holds the ordinary approval rules; the emergency rules are a distinct, auditable
policy that reuses its separation-of-duties check without changing it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from northstar_release.model import Approval, AuditEntry, Environment, Release

EMERGENCY_TAG = "hotfix"
REVIEW_ACTION = "hotfix.review"
_UNITS = {"d": "days", "h": "hours", "m": "minutes"}


def is_emergency(release: Release) -> bool:
    return EMERGENCY_TAG in release.tags


def applies(release: Release, env: Environment) -> bool:
    """True when ``release`` enters ``env`` through the hotfix lane (an emergency release, an env with the policy)."""
    return is_emergency(release) and env.hotfix is not None


def review_window(env: Environment) -> timedelta:
    assert env.hotfix is not None
    text = env.hotfix.review_within  # validated by the model: ^[1-9]\d*[dhm]$
    return timedelta(**{_UNITS[text[-1]]: int(text[:-1])})


def approval_reasons(env: Environment, release: Release, approvals: Iterable[Approval]) -> list[str]:
    """Blocking reasons (empty: enough on-call approvals) for an emergency release entering ``env``."""
    from northstar_release.policy import count_approvers

    assert env.hotfix is not None
    oncall = [o.strip().lower() for o in env.hotfix.oncall]
    counted, ignored = count_approvers(env, release, approvals, allowed=oncall)
    needed = env.hotfix.approvers_required
    if len(counted) >= needed:
        return []
    whom = ", ".join(oncall) if oncall else "anyone but the author"
    return [f"emergency change {release.id} needs {needed} approval(s) by an on-call reviewer ({whom}) in "
            f"{env.name}; has {len(counted)} -- run: ./release approve {release.id} --env {env.name}", *ignored]


@dataclass(frozen=True)
class ReviewDue:
    """One emergency deployment's post-hoc review: when it was due and whether (and when) it was recorded."""

    release_id: str
    env: str
    deployed_at: datetime
    due_at: datetime
    reviewed_at: datetime | None
    reviewer: str | None

    def overdue(self, now: datetime) -> bool:
        return (self.reviewed_at is None and now > self.due_at) or (
            self.reviewed_at is not None and self.reviewed_at > self.due_at)

    def to_json(self, now: datetime) -> dict[str, object]:
        return {"release_id": self.release_id, "env": self.env, "deployed_at": self.deployed_at.isoformat(),
                "due_at": self.due_at.isoformat(), "reviewed_at": self.reviewed_at.isoformat() if self.reviewed_at
                else None, "reviewer": self.reviewer, "overdue": self.overdue(now),
                "late": self.reviewed_at is not None and self.reviewed_at > self.due_at}


def reviews(entries: Iterable[AuditEntry], releases: Mapping[str, Release],
            environments: Mapping[str, Environment]) -> list[ReviewDue]:
    """Every emergency release that reached an env with a hotfix policy, with its review status, from the chain."""
    chain = list(entries)
    done: dict[tuple[str | None, str | None], AuditEntry] = {}
    for e in chain:
        if e.action == REVIEW_ACTION:
            done.setdefault((e.release_id, e.env), e)
    out: list[ReviewDue] = []
    seen: set[tuple[str, str]] = set()
    for e in chain:
        if e.release_id is None or e.env is None or e.action not in ("deploy.succeeded", "promote.succeeded"):
            continue
        release, env = releases.get(e.release_id), environments.get(e.env)
        if release is None or env is None or not applies(release, env) or (e.release_id, e.env) in seen:
            continue
        seen.add((e.release_id, e.env))
        review = done.get((e.release_id, e.env))
        out.append(ReviewDue(release_id=e.release_id, env=e.env, deployed_at=e.at, due_at=e.at + review_window(env),
                             reviewed_at=review.at if review else None, reviewer=review.actor if review else None))
    return out
