"""``./release deploy / promote / rollback / approve``: plans rendered by the explainer, applied by the evaluator."""

from __future__ import annotations

import json
import sys
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import click
from rich.table import Table
from rich.text import Text

from northstar_release import policy
from northstar_release.cli.app import ERR, OUT, App, command, emit, json_option
from northstar_release.errors import Blocked, UsageError
from northstar_release.explainer import Explanation
from northstar_release.model import Environment, Release
from northstar_release.prestart import prestart_every_kind
from northstar_release.recovery import Runtime
from northstar_release.stages import ReleasePlan

if TYPE_CHECKING:
    from northstar_release.identity import IdentityRecord


# ------------------------------------------------------------------------------------------------ deploy/promote ---
def _table(explanation: Explanation) -> Table:
    """The explainer's rows as a rich table (rendering stays in the CLI; the planner knows no terminal)."""
    from northstar_release.explainer import COLUMNS

    table = Table(title=explanation.title)
    for col in COLUMNS:
        table.add_column(col, justify="right" if col == "#" else "left")
    for row in explanation.rows:
        table.add_row(*row)
    if explanation.caption:
        table.caption = explanation.caption
    return table


def _run_plan(app: App, rt: Runtime, plan: ReleasePlan, release: Release, dry_run: bool, wait: bool, reason: str = "") -> None:
    from northstar_release.evaluator import apply
    from northstar_release.explainer import explain

    explanation, doc = explain(plan)
    table = _table(explanation)
    if dry_run:
        code, blockers = _predicted_exit(app, rt, plan, release)

        def dry_human() -> None:
            OUT.print(table)
            if blockers:
                ERR.print(Text.assemble(("WOULD BE BLOCKED", "bold red"), f": {plan.action.value} {release.id} -> "
                                        f"{plan.env} (dry run: nothing changed)"))
                for r in blockers:
                    ERR.print(f"  - {r}")

        emit(app, {"ok": code == 0, "dry_run": True, "exit_code": code, "would_block": blockers, "plan": doc},
             dry_human)
        if code:
            sys.exit(code)
        return
    if not app.json:
        ERR.print(table)
    started, component_before = time.monotonic(), rt.component_seconds()
    result = apply(plan, release, rt, wait=wait, reason=reason)
    elapsed = time.monotonic() - started
    component = rt.component_seconds() - component_before
    timing = {"total_s": round(elapsed, 3), "component_s": round(component, 3), "engine_s": round(elapsed - component, 3)}
    out = {"ok": result.exit_code == 0, "plan": doc, "elapsed_s": round(elapsed, 3), "timing": timing, **result.to_json()}

    def human() -> None:
        colour = {"succeeded": "green", "noop": "green", "blocked": "red", "failed": "red"}.get(result.status.value,
                                                                                             "white")
        OUT.print(Text.assemble((result.status.value, colour),
                                f": {plan.action.value} {release.id} -> {plan.env} (deployment #{result.deployment_id}, "
                                f"{elapsed:.2f}s: engine {timing['engine_s']:.2f}s, component entry points "
                                f"{component:.2f}s)"))
        for r in result.reasons:
            OUT.print(f"  - {r}")
        for m in result.messages:
            OUT.print(f"  {m}")

    emit(app, out, human)
    if result.exit_code:
        sys.exit(result.exit_code)


def _predicted_exit(app: App, rt: Runtime, plan: ReleasePlan, release: Release) -> tuple[int, list[str]]:
    """The exit code the real command would end with, as far as it can be known without changing anything: the plan's
    CHECK stages (previous env, approvals, freeze window, known-good) run read-only, exactly as the evaluator runs
    them. Gates are not run (they may take minutes); a real run can still be blocked by one."""
    from northstar_release import checks
    from northstar_release.stages import CheckStage

    env = app.environments[plan.env]
    reasons: list[str] = []
    for stage in plan.stages:
        if isinstance(stage, CheckStage):
            reasons += checks.run_check(stage.check, release, env, app.store, app.environments, rt.now())
    return (1 if reasons else 0), reasons


def _deploy(app: App, release_id: str, env_name: str, action: str, dry_run: bool, wait: bool) -> None:
    from northstar_release.plan import plan_deploy

    env = app.env(env_name)
    release = app.release(release_id)
    identity = _checked_identity(app, env)
    rt = app.runtime()
    if not dry_run:
        prestart_every_kind(rt)
    plan = plan_deploy(release, env, action, app.actor, app.store, app.environments, rt.now(),
                       actual=app.actual_live(rt, env.name))
    _run_plan(app, rt, _with_identity(plan, identity), release, dry_run, wait)


def _checked_identity(app: App, env: Environment) -> IdentityRecord:
    """The acting identity; refused (exit 1) when ``env`` requires a CI-verified one and it is self-asserted."""
    from northstar_release.identity import require_verified

    identity = app.identity
    require_verified(env.name, env.require_verified_identity, identity)
    return identity


def _with_identity(plan: ReleasePlan, identity: IdentityRecord) -> ReleasePlan:
    """Put the identity record into the plan's notes: the plan is in the hash-chained ``<action>.start`` entry, so
    whether the deployer was CI-verified (and the digest of the token's claims) is chained with the deployment."""
    note = "identity: " + json.dumps(identity.to_json(), sort_keys=True)
    return plan.model_copy(update={"notes": (*plan.notes, note)})


@click.command("deploy")
@click.argument("release_id", metavar="RELEASE")
@click.option("--env", "env_name", required=True, help="Target environment.")
@click.option("--dry-run", is_flag=True, help="Render the plan; change nothing.")
@click.option("--wait", is_flag=True, help="Wait for the environment lock instead of exiting 3.")
@json_option
@click.pass_obj
@command
def deploy_cmd(app: App, release_id: str, env_name: str, dry_run: bool, wait: bool, as_json: bool) -> None:
    """Deploy RELEASE into ENV (checks, gates, atomic switch, verify). Idempotent."""
    _deploy(app, release_id, env_name, "deploy", dry_run, wait)


@click.command("promote")
@click.argument("release_id", metavar="RELEASE")
@click.option("--to", "env_name", required=True, help="Environment to promote into.")
@click.option("--dry-run", is_flag=True, help="Render the plan; change nothing.")
@click.option("--wait", is_flag=True, help="Wait for the environment lock instead of exiting 3.")
@json_option
@click.pass_obj
@command
def promote_cmd(app: App, release_id: str, env_name: str, dry_run: bool, wait: bool, as_json: bool) -> None:
    """Promote RELEASE (unchanged artifacts) into ENV; it must have succeeded in the previous env."""
    _deploy(app, release_id, env_name, "promote", dry_run, wait)


# ------------------------------------------------------------------------------------------------------- approve ---
@click.command("approve")
@click.argument("release_id", metavar="RELEASE")
@click.option("--env", "env_name", required=True)
@click.option("--as", "approver", help="Approver (default: the global actor).")
@click.option("--comment", default="", help="Why you approve (kept in the audit log).")
@json_option
@click.pass_obj
@command
def approve_cmd(app: App, release_id: str, env_name: str, approver: str | None, comment: str, as_json: bool) -> None:
    """Approve RELEASE for ENV. The release author can never approve it (separation of duties)."""
    from northstar_release.identity import require_verified
    from northstar_release.model import Approval

    env = app.env(env_name)
    release = app.release(release_id)
    if policy.approvals_required(env, release) == 0:
        # Validated before anything is written: an approval nobody needs would print "1/0 approvals" and suggest a
        # control that does not exist.
        raise UsageError(f"{env.name} needs no approval for {release.id} (promotion: {env.promotion.value}); "
                         "nothing recorded",
                         [f"environments that need approval: {', '.join(_approval_envs(app)) or 'none'}"])
    identity = app.identity_for(approver, "approve --as") if approver is not None else app.identity
    require_verified(env.name, env.require_verified_identity, identity)
    who = identity.subject
    refused = policy.check_self_approval(release, who)
    if refused:
        with app.store.transaction() as tx:
            tx.append_audit(who, "approval.refused", release.id, env.name, {"reason": refused})
        raise Blocked("approval refused", [refused])
    # Recorded at real time, never the policy clock (NORTHSTAR_NOW) -- evidence must not be backdated.
    approval = Approval(release_id=release.id, env=env.name, approver=who, at=datetime.now(UTC), comment=comment)
    with app.store.transaction() as tx:
        added = tx.add_approval(approval)
        if added:
            tx.append_audit(who, "approval.add", release.id, env.name,
                            {"comment": comment, "identity": identity.to_json()})
    verdict = policy.evaluate_approvals(env, release, app.store.approvals(release.id, env.name))
    doc = {"ok": True, "added": added, "approval": approval.to_json(), "required": verdict.required,
           "counted": list(verdict.counted), "satisfied": verdict.ok, "identity": identity.to_json()}
    emit(app, doc, lambda: OUT.print(
        f"{'approved' if added else 'already approved'}: {release.id} for {env.name} by {who} "
        f"({len(verdict.counted)}/{verdict.required} approvals; identity "
        f"{'CI-verified' if identity.verified else 'unverified'})", highlight=False, markup=False))


def _approval_envs(app: App) -> list[str]:
    return [e.name for e in app.environments.values() if e.promotion.value == "approval" or e.approvers_required]


# ------------------------------------------------------------------------------------------------------ rollback ---
@click.command("rollback")
@click.option("--env", "env_name", required=True)
@click.option("--to", "to_release", help="Release to roll back to (default: the env's last known-good release).")
@click.option("--reason", required=True, help="Why (kept in the audit log).")
@click.option("--dry-run", is_flag=True)
@click.option("--wait", is_flag=True)
@json_option
@click.pass_obj
@command
def rollback_cmd(app: App, env_name: str, to_release: str | None, reason: str, dry_run: bool, wait: bool,
                 as_json: bool) -> None:
    """Switch ENV back to a known-good release: no rebuild, no gates before the swap; verify after."""
    from northstar_release.plan import plan_rollback

    env = app.env(env_name)
    target = app.release(to_release) if to_release else None
    identity = _checked_identity(app, env)
    rt = app.runtime()
    if not dry_run:
        prestart_every_kind(rt)
    plan = plan_rollback(env, target, app.actor, app.store, app.environments, rt.now(), reason=reason,
                         actual=app.actual_live(rt, env.name))
    _run_plan(app, rt, _with_identity(plan, identity), app.release(plan.release_id), dry_run, wait, reason=reason)


