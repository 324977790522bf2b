"""Release planning: turn (release, env, action) into a ``ReleasePlan`` of plain data.

Why a plan separate from its execution (as in SQLMesh's plan/evaluator split): ``--dry-run`` renders exactly what the
evaluator would run, reviewers see the same object, and the applied plan is stored verbatim as audit evidence.
Plans are built from state read *outside* the lock; the evaluator re-runs every check under the lock.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from rich.table import Table

from northstar_release import checks
from northstar_release.errors import Blocked, UsageError
from northstar_release.gates import GATES
from northstar_release.model import (
    DeploymentStatus,
    Environment,
    PromotionMode,
    Release,
    ReleasePlan,
    Stage,
    StageKind,
)
from northstar_release.state.base import StateStore

ACTIONS = ("deploy", "promote", "rollback")


def deploy_stage_name(kind: str, name: str) -> str:
    return f"deploy:{kind}:{name}"


def live_release_id(store: StateStore, env: str) -> str | None:
    """The release whose artifacts are live in ``env`` (the newest if pointers disagree, which only a crash causes)."""
    ids = {release_id for _sha, release_id in store.live(env).values()}
    if len(ids) == 1:
        return ids.pop()
    if not ids:
        return None
    for dep in store.deployments(env=env):
        if dep.release_id in ids:
            return dep.release_id
    return sorted(ids)[0]


def _deploy_stages(release: Release, env: str, store: StateStore, actual: Mapping[tuple[str, str], str | None]) -> list[Stage]:
    live = store.live(env)
    stages = []
    for artifact in release.artifacts:
        key = (artifact.kind.value, artifact.name)
        recorded = live.get(key, (None, None))[0]
        on_disk = actual.get(key, recorded)
        skip = "already live" if recorded == artifact.sha256 and on_disk == artifact.sha256 else None
        stages.append(Stage(
            name=deploy_stage_name(artifact.kind.value, artifact.name), kind=StageKind.DEPLOY, artifact=artifact,
            description=f"switch {env} {artifact.kind.value} '{artifact.name}' "
                        f"{(recorded or 'none')[:12]} -> {artifact.sha256[:12]}", skip_reason=skip))
    return stages


def plan_deploy(release: Release, env: Environment, action: str, actor: str, store: StateStore,
                environments: Mapping[str, Environment], now: datetime,
                actual: Mapping[tuple[str, str], str | None] | None = None) -> ReleasePlan:
    """Stages: CHECKs (previous env, approvals, freeze), the env's GATEs, one DEPLOY per artifact, VERIFY, RECORD.

    ``actual`` maps (kind, name) -> digest the adapters report live on disk; it lets the plan see a switch that a
    crashed run made but never recorded (then the DEPLOY stage is not skipped and the evaluator re-records it).
    """
    if action not in ("deploy", "promote"):
        raise UsageError(f"plan_deploy: unknown action {action!r}")
    stages: list[Stage] = []
    if env.previous:
        stages.append(Stage(name=checks.CHECK_PREVIOUS, kind=StageKind.CHECK,
                            description=f"{release.id} succeeded in {env.previous}"))
    if env.promotion == PromotionMode.APPROVAL or env.approvers_required:
        from northstar_release.policy import approvals_required

        stages.append(Stage(name=checks.CHECK_APPROVALS, kind=StageKind.CHECK,
                            description=f"{approvals_required(env, release)} approver(s), none the author "
                                        f"({release.author})"))
    if env.freeze_windows:
        windows = ", ".join(f"{w.start}-{w.end} UTC" for w in env.freeze_windows)
        stages.append(Stage(name=checks.CHECK_FREEZE, kind=StageKind.CHECK, description=f"outside freeze {windows}"))
    for gate in env.gates:
        stages.append(Stage(name=f"gate:{gate}", kind=StageKind.GATE, description=GATES[gate].description))
    stages += _deploy_stages(release, env.name, store, actual or {})
    stages.append(Stage(name="verify", kind=StageKind.VERIFY,
                        description="post-switch verification of what is live; failure switches back"))
    stages.append(Stage(name="record", kind=StageKind.RECORD,
                        description="record live pointers, mark the deployment succeeded (known-good)"))
    notes = _predicted_blockers(stages, release, env, store, environments, now)
    return ReleasePlan(release_id=release.id, env=env.name, action=action, actor=actor, stages=tuple(stages),
                       notes=tuple(notes))


def _predicted_blockers(stages: list[Stage], release: Release, env: Environment, store: StateStore,
                        environments: Mapping[str, Environment], now: datetime) -> list[str]:
    notes = []
    for stage in stages:
        if stage.kind == StageKind.CHECK:
            for reason in checks.run_check(stage.name, release, env, store, environments, now):
                notes.append(f"would block at {stage.name}: {reason}")
    deploys = [s for s in stages if s.kind == StageKind.DEPLOY]
    if deploys and all(s.skip_reason for s in deploys) and checks.succeeded_in(store, release.id, env.name):
        notes.append(f"{release.id} is already live in {env.name}: applying is a no-op")
    return notes


def last_known_good(store: StateStore, env: str) -> str | None:
    """The most recent release, other than the live one, whose deployment in ``env`` succeeded with verify passed."""
    current = live_release_id(store, env)
    for dep in store.deployments(env=env):  # newest first
        if dep.release_id != current and dep.status == DeploymentStatus.SUCCEEDED and "verify" in dep.stages:
            return dep.release_id
    return None


def plan_rollback(env: Environment, to_release: Release | None, actor: str, store: StateStore,
                  environments: Mapping[str, Environment], now: datetime, reason: str = "",
                  actual: Mapping[tuple[str, str], str | None] | None = None) -> ReleasePlan:
    """Roll ``env`` back to ``to_release`` or, when None, to its last known-good release.

    No gates and no approvals: the target already passed them and VERIFY in this very env; rollback must take seconds.
    Freeze windows do not apply either -- restoring known-good is the emergency exit. VERIFY still runs after the swap.
    """
    if to_release is None:
        target_id = last_known_good(store, env.name)
        if target_id is None:
            raise Blocked(f"{env.name} has no known-good release to roll back to",
                          ["no earlier release reached 'succeeded' with verify passed in this env"])
        to_release = store.get_release(target_id)
        if to_release is None:
            raise UsageError(f"release {target_id} recorded as known-good in {env.name} is missing from state")
    stages = [Stage(name=checks.CHECK_KNOWN_GOOD, kind=StageKind.CHECK,
                    description=f"{to_release.id} previously succeeded (verify passed) in {env.name}")]
    stages += _deploy_stages(to_release, env.name, store, actual or {})
    stages.append(Stage(name="verify", kind=StageKind.VERIFY, description="post-switch verification of what is live"))
    stages.append(Stage(name="record", kind=StageKind.RECORD,
                        description="record live pointers, mark the rolled-back-from deployment rolled_back"))
    notes = [f"reason: {reason}"] if reason else []
    current = live_release_id(store, env.name)
    notes.append(f"from {current or 'nothing'} to {to_release.id}")
    for r in checks.run_check(checks.CHECK_KNOWN_GOOD, to_release, env, store, environments, now):
        notes.append(f"would block at {checks.CHECK_KNOWN_GOOD}: {r}")
    return ReleasePlan(release_id=to_release.id, env=env.name, action="rollback", actor=actor, stages=tuple(stages),
                       notes=tuple(notes))


def explain(plan: ReleasePlan) -> tuple[Table, dict[str, Any]]:
    """Render ``plan`` as a rich table (humans) and a JSON document (machines, audit evidence)."""
    table = Table(title=f"{plan.action} {plan.release_id} -> {plan.env} (actor {plan.actor})")
    table.add_column("#", justify="right")
    table.add_column("stage")
    table.add_column("kind")
    table.add_column("description")
    table.add_column("digest")
    table.add_column("skip")
    for i, stage in enumerate(plan.stages, start=1):
        table.add_row(str(i), stage.name, stage.kind.value, stage.description,
                      stage.artifact.sha256[:12] if stage.artifact else "", stage.skip_reason or "")
    if plan.notes:
        table.caption = "\n".join(plan.notes)
    return table, json.loads(plan.model_dump_json())
