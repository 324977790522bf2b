"""The CHECK stages' logic, shared by the planner (to preview blockers in ``--dry-run``) and the evaluator (to decide,
under the environment lock, with fresh state). Each check returns a list of blocking reasons; empty means pass."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

from northstar_release import policy
from northstar_release.model import DeploymentStatus, Environment, Release
from northstar_release.stages import CheckName
from northstar_release.state.base import StateStore

CHECK_PREVIOUS = CheckName.PREVIOUS_ENV
CHECK_APPROVALS = CheckName.APPROVALS
CHECK_FREEZE = CheckName.FREEZE_WINDOW
CHECK_KNOWN_GOOD = CheckName.KNOWN_GOOD
CHECK_ERROR_BUDGET = CheckName.ERROR_BUDGET


def succeeded_in(store: StateStore, release_id: str, env: str) -> bool:
    return any(d.status == DeploymentStatus.SUCCEEDED for d in store.deployments(env=env, release_id=release_id))


def known_good_in(store: StateStore, release_id: str, env: str) -> bool:
    """A deployment of the release in ``env`` ended succeeded (the evaluator only sets that after VERIFY passed) or was
    later superseded by a rollback (still verified-good in that env at the time) -- we accept only SUCCEEDED."""
    return any(d.status == DeploymentStatus.SUCCEEDED and d.verified
               for d in store.deployments(env=env, release_id=release_id))


def run_check(name: CheckName, release: Release, env: Environment, store: StateStore,
              environments: Mapping[str, Environment], now: datetime) -> list[str]:
    if name == CHECK_PREVIOUS:
        if env.previous and not succeeded_in(store, release.id, env.previous):
            return [f"{release.id} has not succeeded in {env.previous}; promote it there first "
                    f"(./release promote {release.id} --to {env.previous})"]
        return []
    if name == CHECK_APPROVALS:
        # Only approvals the audit chain vouches for count; forged rows are named (state/reconcile.py).
        from northstar_release import hotfix
        from northstar_release.state.reconcile import countable_approvals

        approvals, forged, not_counted = countable_approvals(store, release.id, env)
        if hotfix.applies(release, env):  # emergency change: on-call approval instead of the usual count
            blocked = hotfix.approval_reasons(env, release, approvals)
            return forged + (blocked + not_counted if blocked else [])
        verdict = policy.evaluate_approvals(env, release, approvals)
        return forged + ([] if verdict.ok else [*verdict.reasons, *not_counted])
    if name == CHECK_FREEZE:
        window = policy.active_freeze(env, now)
        if window:
            return [f"{env.name} is frozen {window.start}-{window.end} UTC ({window.reason or 'freeze window'}); "
                    f"now is {policy_time(now)} UTC"]
        return []
    if name == CHECK_KNOWN_GOOD:
        if not known_good_in(store, release.id, env.name):
            return [f"{release.id} never succeeded (with verify) in {env.name}; rollback only targets known-good releases"]
        return []
    if name == CHECK_ERROR_BUDGET:
        from northstar_release.health_budget import error_budget_reasons

        return error_budget_reasons(release, env, store, now)
    raise KeyError(name)  # unreachable while every CheckName is handled above


def policy_time(now: datetime) -> str:

    return now.astimezone(UTC).strftime("%H:%M")
