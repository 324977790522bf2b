"""Release policy: approvals (separation of duties) and freeze windows.

Why pure functions over plain records with an explicit ``now``: policy decisions are audit evidence. They must be
reproducible from the stored records and testable at any instant (the CLI takes ``now`` from ``NORTHSTAR_NOW`` when
set, for tests and drills), never from a hidden clock.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, time

from northstar_release.errors import UsageError
from northstar_release.model import Approval, Environment, FreezeWindow, PromotionMode, Release

FINANCE_TAG = "finance"


def now_utc(environ: dict[str, str] | None = None) -> datetime:
    """Current time, or ``NORTHSTAR_NOW`` (ISO-8601; naive means UTC) when set -- for tests and drills."""
    value = (environ if environ is not None else os.environ).get("NORTHSTAR_NOW", "").strip()
    if not value:
        return datetime.now(UTC)
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise UsageError(f"NORTHSTAR_NOW={value!r} is not an ISO-8601 timestamp") from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _hhmm(value: str) -> time:
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


def in_window(now: datetime, window: FreezeWindow) -> bool:
    """True when ``now`` (converted to UTC) falls in the daily window [start, end); windows may cross midnight."""
    t = now.astimezone(UTC).time().replace(tzinfo=None) if now.tzinfo else now.time()
    start, end = _hhmm(window.start), _hhmm(window.end)
    if start < end:
        return start <= t < end
    return t >= start or t < end  # crosses midnight, e.g. 22:00-02:00


def active_freeze(env: Environment, now: datetime) -> FreezeWindow | None:
    for window in env.freeze_windows:
        if in_window(now, window):
            return window
    return None


@dataclass(frozen=True)
class ApprovalVerdict:
    ok: bool
    required: int
    counted: tuple[str, ...]
    reasons: tuple[str, ...] = field(default_factory=tuple)


def approvals_for_tags(env: Environment, tags: Iterable[str]) -> int:
    """N approvers for the env given a release's tags; ``finance`` needs ``finance_approvers_required``.

    The one rule: promote/approve call it with the built release's tags, ``./release plan`` with the tags the change
    will be built with, so plan shows exactly what promote will ask for."""
    if env.promotion != PromotionMode.APPROVAL and env.approvers_required == 0:
        return 0
    required = env.approvers_required
    if FINANCE_TAG in set(tags):
        required = max(required, env.finance_approvers_required)
    return required


def approvals_required(env: Environment, release: Release) -> int:
    """N approvers for the env; releases touching ``finance``-tagged targets need ``finance_approvers_required``."""
    return approvals_for_tags(env, release.tags)


def count_approvers(env: Environment, release: Release, approvals: Iterable[Approval],
                    allowed: Iterable[str] | None = None) -> tuple[list[str], list[str]]:
    """Distinct approvers of (release, env) that count, and why each other approval was ignored.

    Never the author or a contributor (separation of duties); with ``allowed`` (the hotfix lane's on-call list) only
    those identities count. One loop for the ordinary and the emergency rule, so they cannot drift apart."""
    allow = None if allowed is None else [a.strip().lower() for a in allowed]
    counted: list[str] = []
    ignored: list[str] = []
    for approval in approvals:
        if approval.env != env.name or approval.release_id != release.id:
            continue
        who = approval.approver.strip().lower()
        conflict = check_self_approval(release, approval.approver)
        if conflict:
            why = f"the release author cannot approve it: {conflict}" if who == release.author.strip().lower() else conflict
            ignored.append(f"approval by {approval.approver} ignored: {why}")
        elif allow and who not in allow:
            ignored.append(f"approval by {approval.approver} ignored: not an on-call reviewer for emergency changes "
                           f"in {env.name} ({', '.join(allow)})")
        elif who not in counted:
            counted.append(who)
    return counted, ignored


def evaluate_approvals(env: Environment, release: Release, approvals: Iterable[Approval]) -> ApprovalVerdict:
    """Count distinct approvers for (release, env), never the release author (separation of duties)."""
    required = approvals_required(env, release)
    counted, reasons = count_approvers(env, release, approvals)
    ok = len(counted) >= required
    if not ok:
        why = f" (release touches '{FINANCE_TAG}' targets)" if FINANCE_TAG in release.tags and required > env.approvers_required else ""
        reasons.insert(0, f"{env.name} needs {required} approver(s) other than the author {release.author}{why}; "
                          f"has {len(counted)}" + (f": {', '.join(counted)}" if counted else "")
                          + f" -- run: ./release approve {release.id} --env {env.name}")
    return ApprovalVerdict(ok=ok, required=required, counted=tuple(counted), reasons=tuple(reasons))


def check_self_approval(release: Release, approver: str) -> str | None:
    """Reason string when ``approver`` authored or committed what the release ships (the approve command refuses with
    exit 1): the HEAD author, or any author/committer of the commits since the commit live in prod."""
    who = approver.strip().lower()
    if who == release.author.strip().lower():
        return f"{approver} is the author of {release.id}; separation of duties forbids self-approval"
    if who in release.contributors:
        return (f"{approver} authored or committed changes shipped in {release.id}; separation of duties forbids "
                "approving them")
    return None
