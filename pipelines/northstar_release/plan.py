"""Release planning: turn (release, env, action) into a ``ReleasePlan`` of typed stages, in execution order.

Why a plan separate from its execution (as in SQLMesh's plan/evaluator split): ``--dry-run`` renders exactly what the
evaluator would run, reviewers see the same object, and the applied plan is stored verbatim as audit evidence.
Plans are built from state read *outside* the lock; the evaluator re-runs every check under the lock.
Rendering lives in ``explainer.py``: the planner knows nothing about tables or terminals.

Speed without skipping controls: a promotion carries the same digests the previous env already gated and verified.
A gate or a verification that depends only on those bytes is not re-run; the plan says so (``GateStage.reuse``,
``VerifyTarget.mode=INTEGRITY`` with ``reused_from``) and points at the original evidence in the audit chain. Kinds
whose artifacts are already live in the env (same content digest) are neither switched nor verified again.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from northstar_release import checks, hotfix
from northstar_release.errors import Blocked, UsageError
from northstar_release.gates import GATES
from northstar_release.kinds.registry import KINDS, KindRegistry
from northstar_release.model import (
    Deployment,
    DeploymentStatus,
    Environment,
    EvidenceRef,
    GateOutcome,
    GateResult,
    PromotionMode,
    Release,
    ReleaseAction,
)
from northstar_release.stages import (
    RECORD_STAGE,
    VERIFY_STAGE,
    CheckName,
    CheckStage,
    DeployStage,
    GateStage,
    RecordStage,
    ReleasePlan,
    Stage,
    SwitchMode,
    VerifyMode,
    VerifyStage,
    VerifyTarget,
    deploy_stage_name,
)
from northstar_release.state.base import StateStore

ACTIONS = tuple(a.value for a in ReleaseAction)
Actual = Mapping[tuple[str, str], str | None]


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


def _deploy_stages(release: Release, env: str, store: StateStore, actual: Actual, mode: SwitchMode) -> list[DeployStage]:
    live = store.live(env)
    stages = []
    for artifact in release.artifacts:
        key = (artifact.kind.value, artifact.name)
        recorded = live.get(key, (None, None))[0]
        on_disk = actual.get(key, recorded)
        skip = "already live" if recorded == artifact.sha256 and on_disk == artifact.sha256 else None
        stages.append(DeployStage(
            name=deploy_stage_name(artifact.kind.value, artifact.name), artifact=artifact, mode=mode,
            description=f"switch {env} {artifact.kind.value} '{artifact.name}' "
                        f"{(recorded or 'none')[:12]} -> {artifact.sha256[:12]}", skip_reason=skip))
    return stages


def _succeeded_deployment(store: StateStore, release_id: str, env: str | None) -> Deployment | None:
    if env is None:
        return None
    for dep in store.deployments(env=env, release_id=release_id):  # newest first
        if dep.status == DeploymentStatus.SUCCEEDED and dep.verified and dep.id is not None:
            return dep
    return None


def _evidence_ref(store: StateStore, dep: Deployment) -> EvidenceRef | None:
    """The audit entry that chained ``dep``'s gate results (its ``<action>.succeeded`` entry)."""
    for entry in reversed(store.audit_entries_of(dep.release_id)):
        if entry.action.endswith(".succeeded") and entry.payload.get("deployment_id") == dep.id:
            return EvidenceRef(env=dep.env, deployment_id=dep.persisted_id(), audit_seq=entry.seq,
                               audit_hash=entry.hash)
    return None


def _origin(result: GateResult, fallback: EvidenceRef | None) -> EvidenceRef | None:
    """Reused evidence always points at where it was first produced, never at an earlier reuse."""
    return result.reused_from or fallback


@dataclass(frozen=True)
class _Previous:
    """The release's verified deployment in the previous env and the audit entry that chained its evidence: looked
    up once per plan (the entry lookup parses the release's audit entries)."""

    deployment: Deployment | None
    ref: EvidenceRef | None

    @classmethod
    def of(cls, store: StateStore, release: Release, env: Environment, action: ReleaseAction) -> _Previous:
        dep = _succeeded_deployment(store, release.id, env.previous) if action != ReleaseAction.ROLLBACK else None
        return cls(dep, _evidence_ref(store, dep) if dep is not None else None)


def _gate_stage(gate_name: str, env: Environment, store: StateStore, prev: _Previous) -> GateStage:
    gate = GATES[gate_name]
    stage = GateStage(name=f"gate:{gate_name}", gate=gate_name, description=gate.description,
                      environment_dependent=gate.environment_dependent)
    previous, ref = prev.deployment, prev.ref
    if previous is None:
        return stage
    results = tuple(r for r in store.gate_results(previous.persisted_id()) if r.gate == gate_name)
    if not results or ref is None or any(r.outcome != GateOutcome.PASSED for r in results):
        return stage
    origin = _origin(results[0], ref)
    if gate.environment_dependent:
        return stage.model_copy(update={
            "reuse": results, "reused_from": origin,
            "description": f"{gate.description} -- passed for these digests in {origin.env if origin else '?'}; "
                           f"the gate reuses what does not depend on {env.name} and runs the rest (all of it when "
                           "its base moved)"})
    return stage.model_copy(update={
        "reuse": results, "reused_from": origin,
        "description": f"{gate.description} -- reused: passed for these digests in {origin.env if origin else '?'} "
                       f"(deployment #{origin.deployment_id if origin else '?'}), verdict does not depend on the env"})


def _verify_stage(deploys: list[DeployStage], store: StateStore, action: ReleaseAction, kinds: KindRegistry,
                  prev: _Previous) -> VerifyStage:
    """One target per kind that is switched; kinds whose artifacts are all already live are not verified again."""
    previous, prev_ref = prev.deployment, prev.ref
    # The evaluator stamps every verification with what it verified: {"kind", "mode", "digests"}.
    prev_results = {str(r.evidence["verified"].get("kind")): r
                    for r in (store.gate_results(previous.persisted_id()) if previous else [])
                    if isinstance(r.evidence.get("verified"), dict)}
    targets: list[VerifyTarget] = []
    for kind in dict.fromkeys(s.artifact.kind for s in deploys):
        switched = {s.artifact.name: s.artifact.sha256 for s in deploys if s.artifact.kind == kind and not s.skip_reason}
        if not switched:
            continue
        spec = kinds.get(kind)
        names = tuple(sorted(switched))
        if action == ReleaseAction.ROLLBACK:
            mode = spec.rollback_verify if spec else VerifyMode.FULL
            why = "known-good in this env: integrity of its bytes" if mode == VerifyMode.INTEGRITY else ""
            targets.append(VerifyTarget(kind=kind, names=names, mode=mode, reason=why))
            continue
        earlier = prev_results.get(kind.value)
        if (spec is not None and not spec.verify_env_dependent and earlier is not None
                and earlier.outcome == GateOutcome.PASSED
                and switched.items() <= dict(earlier.evidence["verified"].get("digests") or {}).items()):
            origin = _origin(earlier, prev_ref)
            if origin is not None:
                targets.append(VerifyTarget(
                    kind=kind, names=names, mode=VerifyMode.INTEGRITY, reused_from=origin,
                    reason=f"full verification of these digests passed in {origin.env} "
                           f"(deployment #{origin.deployment_id}); it does not depend on the env"))
                continue
        targets.append(VerifyTarget(kind=kind, names=names, mode=VerifyMode.FULL))
    described = ", ".join(f"{t.kind.value}[{t.mode.value}]" for t in targets) or "nothing switched"
    return VerifyStage(name=VERIFY_STAGE, targets=tuple(targets),
                       description=f"post-switch verification of what is live ({described}); failure switches back")


def plan_deploy(release: Release, env: Environment, action: str, actor: str, store: StateStore,
                environments: Mapping[str, Environment], now: datetime, actual: Actual | None = None,
                kinds: KindRegistry = KINDS) -> ReleasePlan:
    """Stages: CHECKs (previous env, approvals, freeze), the env's GATEs, one DEPLOY per artifact, VERIFY, RECORD.

    ``actual`` maps (kind, name) -> digest the adapters report live on disk; it lets the plan see a switch that a
    crashed run made but never recorded (then the DEPLOY stage is not skipped and the evaluator re-records it).
    """
    if action not in (ReleaseAction.DEPLOY.value, ReleaseAction.PROMOTE.value):
        raise UsageError(f"plan_deploy: unknown action {action!r}")
    act = ReleaseAction(action)
    stages: list[Stage] = []
    emergency = hotfix.applies(release, env)  # the hotfix lane: no previous env, on-call approval (hotfix.py)
    if env.previous and not emergency:
        stages.append(CheckStage(name=CheckName.PREVIOUS_ENV.value, check=CheckName.PREVIOUS_ENV,
                                 description=f"{release.id} succeeded in {env.previous}"))
    if emergency and env.hotfix is not None:
        stages.append(CheckStage(name=CheckName.APPROVALS.value, check=CheckName.APPROVALS,
                                 description=f"emergency change: {env.hotfix.approvers_required} on-call "
                                             f"approver(s), none the author ({release.author}); post-hoc review "
                                             f"due within {env.hotfix.review_within}"))
    elif env.promotion == PromotionMode.APPROVAL or env.approvers_required:
        from northstar_release.policy import approvals_required

        stages.append(CheckStage(name=CheckName.APPROVALS.value, check=CheckName.APPROVALS,
                                 description=f"{approvals_required(env, release)} approver(s), none the author "
                                             f"({release.author})"))
    if env.freeze_windows:
        windows = ", ".join(f"{w.start}-{w.end} UTC" for w in env.freeze_windows)
        stages.append(CheckStage(name=CheckName.FREEZE_WINDOW.value, check=CheckName.FREEZE_WINDOW,
                                 description=f"outside freeze {windows}"))
    if env.health is not None and env.health.budget_block:
        stages.append(CheckStage(name=CheckName.ERROR_BUDGET.value, check=CheckName.ERROR_BUDGET,
                                 description="no DAG it touches has exhausted its monthly error budget "
                                             "(hotfix releases pass)"))
    prev = _Previous.of(store, release, env, act)
    stages += [_gate_stage(gate, env, store, prev) for gate in env.gates]
    deploys = _deploy_stages(release, env.name, store, actual or {}, SwitchMode.FORWARD)
    stages += deploys
    stages.append(_verify_stage(deploys, store, act, kinds, prev))
    stages.append(RecordStage(name=RECORD_STAGE,
                              description="record live pointers, mark the deployment succeeded (known-good)"))
    notes = _predicted_blockers(stages, release, env, store, environments, now)
    return ReleasePlan(release_id=release.id, env=env.name, action=act, actor=actor, stages=tuple(stages),
                       notes=tuple(notes))


def _predicted_blockers(stages: list[Stage], release: Release, env: Environment, store: StateStore,
                        environments: Mapping[str, Environment], now: datetime) -> list[str]:
    notes = []
    for stage in stages:
        if isinstance(stage, CheckStage):
            for reason in checks.run_check(stage.check, release, env, store, environments, now):
                notes.append(f"would block at {stage.name}: {reason}")
    deploys = [s for s in stages if isinstance(s, DeployStage)]
    if deploys and all(s.skip_reason for s in deploys) and checks.succeeded_in(store, release.id, env.name):
        notes.append(f"{release.id} is already live in {env.name}: applying is a no-op")
    return notes


def last_known_good(store: StateStore, env: str) -> str | None:
    """The most recent release, other than the live one, whose deployment in ``env`` succeeded with verify passed."""
    current = live_release_id(store, env)
    for dep in store.deployments(env=env):  # newest first
        if dep.release_id != current and dep.status == DeploymentStatus.SUCCEEDED and dep.verified:
            return dep.release_id
    return None


def plan_rollback(env: Environment, to_release: Release | None, actor: str, store: StateStore,
                  environments: Mapping[str, Environment], now: datetime, reason: str = "",
                  actual: Actual | None = None, kinds: KindRegistry = KINDS) -> ReleasePlan:
    """Roll ``env`` back to ``to_release`` or, when None, to its last known-good release.

    No gates and no approvals: the target already passed them and VERIFY in this very env; rollback must take seconds.
    Freeze windows do not apply either -- restoring known-good is the emergency exit. VERIFY still runs after the swap,
    in each kind's rollback mode (``KindSpec.rollback_verify``).
    """
    if to_release is None:
        target_id = last_known_good(store, env.name)
        if target_id is None:
            raise Blocked(f"{env.name} has no known-good release to roll back to",
                          ["no earlier release reached 'succeeded' with verify passed in this env"])
        to_release = store.get_release(target_id)
        if to_release is None:
            raise UsageError(f"release {target_id} recorded as known-good in {env.name} is missing from state")
    stages: list[Stage] = [CheckStage(name=CheckName.KNOWN_GOOD.value, check=CheckName.KNOWN_GOOD,
                                      description=f"{to_release.id} previously succeeded (verify passed) in "
                                                  f"{env.name}")]
    deploys = _deploy_stages(to_release, env.name, store, actual or {}, SwitchMode.ROLLBACK)
    stages += deploys
    stages.append(_verify_stage(deploys, store, ReleaseAction.ROLLBACK, kinds, _Previous(None, None)))
    stages.append(RecordStage(name=RECORD_STAGE, mark_rolled_back=True,
                              description="record live pointers, mark the rolled-back-from deployment rolled_back"))
    notes = [f"reason: {reason}"] if reason else []
    current = live_release_id(store, env.name)
    notes.append(f"from {current or 'nothing'} to {to_release.id}")
    for r in checks.run_check(CheckName.KNOWN_GOOD, to_release, env, store, environments, now):
        notes.append(f"would block at {CheckName.KNOWN_GOOD.value}: {r}")
    return ReleasePlan(release_id=to_release.id, env=env.name, action=ReleaseAction.ROLLBACK, actor=actor,
                       stages=tuple(stages), notes=tuple(notes))
