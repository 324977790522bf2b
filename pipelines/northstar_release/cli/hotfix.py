"""``./release hotfix review / pending``: the post-hoc review of emergency changes (policy: northstar_release/hotfix.py).

Exit codes: 0 done (``pending``: nothing overdue); 1 refused (self-review) or reviews overdue; 2 bad input (unknown
release or env, not an emergency change in that env).
"""

from __future__ import annotations

import sys
from datetime import datetime
from typing import Any

import click

from northstar_release.cli.app import OUT, App, command, emit, json_option
from northstar_release.errors import Blocked, UsageError


def review_status(app: App) -> tuple[list[dict[str, Any]], datetime]:
    """Every emergency deployment's review status as of the policy clock (NORTHSTAR_NOW for drills, else the wall
    clock). The review entries themselves are stamped by the store at real time: evidence is never backdated."""
    from northstar_release import hotfix, policy

    store = app.store
    now = policy.now_utc()
    releases = {r.id: r for r in store.list_releases()}
    return [r.to_json(now) for r in hotfix.reviews(store.audit_entries(), releases, app.environments)], now


@click.group("hotfix")
def hotfix_group() -> None:
    """Emergency changes (build --emergency): record and list the mandatory post-hoc reviews."""


@hotfix_group.command("review")
@click.argument("release_id", metavar="RELEASE")
@click.option("--env", "env_name", default="prod", show_default=True)
@click.option("--comment", required=True, help="What the review found (kept in the audit log).")
@json_option
@click.pass_obj
@command
def review_cmd(app: App, release_id: str, env_name: str, comment: str, as_json: bool) -> None:
    """Record the post-hoc review of emergency change RELEASE in ENV (never by its author or a contributor)."""
    from northstar_release import hotfix
    from northstar_release.identity import require_verified
    from northstar_release.policy import check_self_approval

    env = app.env(env_name)
    release = app.release(release_id)
    if not hotfix.applies(release, env):
        raise UsageError(f"{release.id} is not an emergency change in {env.name}",
                         [f"only releases tagged '{hotfix.EMERGENCY_TAG}' entering an env with a hotfix policy need "
                          "a post-hoc review"])
    due = [r for r in review_status(app)[0] if r["release_id"] == release.id and r["env"] == env.name]
    if not due:
        raise UsageError(f"{release.id} has not reached {env.name}: nothing to review yet")
    identity = app.identity
    require_verified(env.name, env.require_verified_identity, identity)
    refused = check_self_approval(release, identity.subject)
    if refused:
        raise Blocked("review refused", [refused.replace("self-approval", "self-review")])
    if due[0]["reviewed_at"] is not None:
        emit(app, {"ok": True, "added": False, "review": due[0]}, lambda: OUT.print(
            f"already reviewed: {release.id} in {env.name} by {due[0]['reviewer']} at {due[0]['reviewed_at']}",
            highlight=False))
        return
    with app.store.transaction() as tx:
        entry = tx.append_audit(identity.subject, hotfix.REVIEW_ACTION, release.id, env.name,
                                {"comment": comment, "due_at": due[0]["due_at"], "identity": identity.to_json()})
    late = entry.at > datetime.fromisoformat(str(due[0]["due_at"]))
    emit(app, {"ok": True, "added": True, "audit_seq": entry.seq, "late": late, "review": {
        **due[0], "reviewed_at": entry.at.isoformat(), "reviewer": identity.subject}},
        lambda: OUT.print(f"reviewed: {release.id} in {env.name} by {identity.subject}"
                          + (" (LATE: after the deadline)" if late else ""), highlight=False))


@hotfix_group.command("pending")
@json_option
@click.pass_obj
@command
def pending_cmd(app: App, as_json: bool) -> None:
    """Emergency changes with their review deadline; exit 1 when a review is overdue."""
    rows, now = review_status(app)
    overdue = [r for r in rows if r["overdue"]]

    def human() -> None:
        if not rows:
            OUT.print("no emergency changes recorded", highlight=False)
        for r in rows:
            state = ("reviewed" + (" LATE" if r["late"] else "") if r["reviewed_at"] else
                     "OVERDUE" if r["overdue"] else "review pending")
            OUT.print(f"{r['release_id']} {r['env']}: {state} (deployed {r['deployed_at']}, due {r['due_at']})",
                      highlight=False)

    emit(app, {"ok": not overdue, "now": now.isoformat(), "reviews": rows, "overdue": overdue}, human)
    if overdue:
        sys.exit(1)
