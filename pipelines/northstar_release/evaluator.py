"""The plan evaluator: applies a ``ReleasePlan`` stage by stage under the environment lock.

Why it is built this way:
* Every state change lands in one transaction with the audit entry that records it (state/base.py), so the audit
  trail cannot miss a change the state shows.
* CHECK and GATE stages run before anything in the env is touched; a failure leaves the env exactly as it was
  (status ``blocked``, exit 1).
* DEPLOY switches each artifact atomically through its adapter. Live pointers in state are written only in RECORD,
  after VERIFY passed, so "live in state" always means "verified"; a VERIFY failure switches the env back to the
  artifacts that were live before (status ``failed``, exit 1).
* Crash safety: adapters switch with an atomic rename, so a SIGKILL leaves every artifact old or new. The next run
  under the lock finds the dead run's ``running`` deployment, marks it failed (audited, with what was found on disk),
  and re-applies: deploys are idempotent, so re-running the same command converges.

Test hook: ``NORTHSTAR_TEST_PAUSE_AT=<point>`` makes the evaluator print ``PAUSED <point> pid=<pid>`` to stderr and
sleep ``NORTHSTAR_TEST_PAUSE_SECONDS`` (default 30) at that point, so crash tests can SIGKILL it mid-flight. A point is
a stage name (``verify``), a stage kind (``deploy``) -- both pause *before* the stage -- or ``after:<stage name or
kind>``. Never set it in production.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from northstar_release import checks
from northstar_release.adapters.base import ArtifactAdapter, EnvContext
from northstar_release.errors import ReleaseError
from northstar_release.gates import GATES, GateContext
from northstar_release.model import (
    Artifact,
    ArtifactKind,
    Deployment,
    DeploymentStatus,
    Environment,
    GateResult,
    Release,
    ReleasePlan,
    Stage,
    StageKind,
)
from northstar_release.state.base import StateError, StateStore


@dataclass
class Runtime:
    """Everything the evaluator touches, injected so tests can substitute any part."""

    store: StateStore
    environments: Mapping[str, Environment]
    adapters: Mapping[ArtifactKind, ArtifactAdapter]
    env_context: Callable[[str], EnvContext]
    now: Callable[[], datetime]
    progress: Callable[[str], None] = lambda msg: None
    # Real time for records (deployment and stage timestamps). ``now`` is the *policy* clock (NORTHSTAR_NOW may pin it
    # for drills); records must say when things really happened, or durations and evidence would be fiction.
    wall: Callable[[], datetime] = lambda: datetime.now(UTC)
    # Cumulative seconds spent in component entry points (subprocesses); lets callers report engine-only time.
    component_seconds: Callable[[], float] = lambda: 0.0


@dataclass
class ApplyResult:
    status: str  # succeeded | blocked | failed | noop
    exit_code: int
    release_id: str
    env: str
    action: str
    deployment_id: int | None = None
    reasons: list[str] = field(default_factory=list)
    gate_results: list[GateResult] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)
    recovered: list[int] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "status": self.status, "exit_code": self.exit_code, "release_id": self.release_id, "env": self.env,
            "action": self.action, "deployment_id": self.deployment_id, "reasons": self.reasons,
            "gate_results": [g.to_json() for g in self.gate_results], "messages": self.messages,
            "recovered_deployments": self.recovered,
        }


def _maybe_pause(point_names: list[str]) -> None:
    wanted = os.environ.get("NORTHSTAR_TEST_PAUSE_AT", "").strip()
    if wanted and wanted in point_names:
        print(f"PAUSED {wanted} pid={os.getpid()}", file=sys.stderr, flush=True)
        time.sleep(float(os.environ.get("NORTHSTAR_TEST_PAUSE_SECONDS", "30")))


def find_artifact(store: StateStore, kind: str, name: str, sha256: str) -> Artifact | None:
    """The stored Artifact record for a digest (needed to switch back to whatever was live before)."""
    for release in store.list_releases():
        for artifact in release.artifacts:
            if artifact.kind.value == kind and artifact.name == name and artifact.sha256 == sha256:
                return artifact
    return None


def recover_abandoned(rt: Runtime, env: str, actor: str) -> list[int]:
    """Mark deployments left ``running`` by a dead process as failed. Call only while holding ``env``'s lock:
    holding it proves no live process is still running them."""
    recovered = []
    ctx = rt.env_context(env)
    on_disk = {f"{k}:{n}": rt.adapters[ArtifactKind(k)].current(ctx, n)
               for (k, n) in rt.store.live(env) if ArtifactKind(k) in rt.adapters}
    recorded = {f"{k}:{n}": v[0] for (k, n), v in rt.store.live(env).items()}
    for dep in rt.store.deployments(env=env):
        if dep.status != DeploymentStatus.RUNNING or dep.id is None:
            continue
        reason = (f"abandoned: the process running this {dep.action} died after stages "
                  f"{list(dep.stages) or 'none'}; superseded by a later run")
        with rt.store.transaction() as tx:
            tx.update_deployment(dep.id, status=DeploymentStatus.FAILED, finished_at=rt.wall(), reason=reason)
            tx.append_audit(actor, "deploy.abandoned", dep.release_id, env,
                            {"deployment_id": dep.id, "stages_done": dep.stages, "live_on_disk": on_disk,
                             "live_recorded": recorded, "reason": reason})
        rt.progress(f"recovered deployment #{dep.id} ({dep.release_id}) left running by a dead process: marked failed")
        recovered.append(dep.id)
    _reconcile_disk_with_recorded(rt, env, actor, ctx)
    return recovered


def _reconcile_disk_with_recorded(rt: Runtime, env: str, actor: str, ctx: EnvContext) -> None:
    """Switch any artifact whose on-disk digest differs from the recorded (verified) live one back to the recorded one.

    Why: a process killed between an atomic switch and its RECORD stage leaves the env on an unverified artifact while
    state still names the previous release. Whatever command runs next (the same deploy, another release, a rollback)
    must start from the verified state, or "last known-good" would be computed against a release that is not live.
    """
    for (kind_value, name), (sha256, release_id) in rt.store.live(env).items():
        adapter = rt.adapters.get(ArtifactKind(kind_value))
        if adapter is None:
            continue
        on_disk = adapter.current(ctx, name)
        if on_disk == sha256:
            continue
        artifact = find_artifact(rt.store, kind_value, name, sha256)
        if artifact is None:
            raise StateError(f"{env}: recorded live {kind_value} '{name}' {sha256[:12]} is not in any stored release")
        outcome = adapter.rollback(ctx, artifact)
        with rt.store.transaction() as tx:
            tx.append_audit(actor, "recover.switch_back", release_id, env, {
                "kind": kind_value, "name": name, "found_on_disk": on_disk, "restored": sha256,
                "message": outcome.message})
        rt.progress(f"recovered {env}: {kind_value} '{name}' was {str(on_disk)[:12]} on disk, restored the recorded "
                    f"{sha256[:12]} ({release_id})")


class _Run:
    """One application of one plan; holds the deployment row id and what was switched (for switching back)."""

    def __init__(self, plan: ReleasePlan, release: Release, rt: Runtime, reason: str) -> None:
        self.plan, self.release, self.rt, self.reason = plan, release, rt, reason
        self.env = rt.environments[plan.env]
        self.ctx = rt.env_context(plan.env)
        self._dep_id: int | None = None
        self.switched: list[tuple[Artifact, str | None]] = []  # (new artifact, digest live before)
        self.gate_results: list[GateResult] = []

    # -- helpers ------------------------------------------------------------------------------------------------------
    @property
    def dep_id(self) -> int:
        """The deployment row's id; only valid once ``apply`` has started the deployment."""
        if self._dep_id is None:
            raise RuntimeError("no deployment row yet: apply() has not started the deployment")
        return self._dep_id

    def _stage_done(self, stage: Stage, extra_audit: tuple[str, dict[str, Any]] | None = None,
                    results: list[GateResult] | None = None) -> None:
        with self.rt.store.transaction() as tx:
            tx.update_deployment(self.dep_id, stage=(stage.name, self.rt.wall()))
            if results:
                tx.add_gate_results(self.dep_id, results)
            if extra_audit:
                tx.append_audit(self.plan.actor, extra_audit[0], self.release.id, self.plan.env, extra_audit[1])

    def _finish(self, status: DeploymentStatus, action: str, payload: dict[str, Any], reason: str = "") -> None:
        with self.rt.store.transaction() as tx:
            tx.update_deployment(self.dep_id, status=status, finished_at=self.rt.wall(), reason=reason or None)
            tx.append_audit(self.plan.actor, action, self.release.id, self.plan.env,
                            {"deployment_id": self.dep_id, **payload})

    def _switch_back(self) -> list[str]:
        notes = []
        for artifact, previous in reversed(self.switched):
            adapter = self.rt.adapters[artifact.kind]
            if previous is None:
                clear = getattr(adapter, "clear", None)
                if clear is not None:
                    notes.append(clear(self.ctx, artifact.name).message)
                continue
            before = find_artifact(self.rt.store, artifact.kind.value, artifact.name, previous)
            if before is None:
                notes.append(f"cannot switch {artifact.name} back: no stored artifact has digest {previous}")
                continue
            notes.append(adapter.rollback(self.ctx, before).message)
        return notes

    # -- main ---------------------------------------------------------------------------------------------------------
    def apply(self) -> ApplyResult:
        plan, rt = self.plan, self.rt
        result = ApplyResult(status="running", exit_code=0, release_id=plan.release_id, env=plan.env,
                             action=plan.action)
        with rt.store.transaction() as tx:
            dep = tx.start_deployment(Deployment(release_id=self.release.id, env=plan.env,
                                                 status=DeploymentStatus.RUNNING, actor=plan.actor,
                                                 action=plan.action, started_at=rt.wall(), reason=self.reason))
            tx.append_audit(plan.actor, f"{plan.action}.start", self.release.id, plan.env,
                            {"deployment_id": dep.id, "plan": plan.to_json(), "reason": self.reason,
                             "git_commit": self.release.git_commit,
                             "digests": {a.name: a.sha256 for a in self.release.artifacts},
                             # A clock override (NORTHSTAR_NOW) bypasses freeze windows; auditors must see it.
                             "clock": {"policy_now": rt.now().isoformat(),
                                       "wall_clock": datetime.now(UTC).isoformat(),
                                       "override": os.environ.get("NORTHSTAR_NOW") or None}})
        self._dep_id = result.deployment_id = dep.persisted_id()
        rt.progress(f"deployment #{dep.id}: {plan.action} {self.release.id} -> {plan.env}")

        # CHECK + GATE: nothing in the env changes here.
        reasons: list[str] = []
        for stage in [s for s in plan.stages if s.kind == StageKind.CHECK]:
            _maybe_pause([stage.name, stage.kind.value])
            found = checks.run_check(stage.name, self.release, self.env, rt.store, rt.environments, rt.now())
            rt.progress(f"  {stage.name}: {'BLOCKED' if found else 'ok'}")
            reasons += found
            if not found:
                self._stage_done(stage)
        if not reasons:
            for stage in [s for s in plan.stages if s.kind == StageKind.GATE]:
                _maybe_pause([stage.name, stage.kind.value])
                gate = GATES[stage.name.split(":", 1)[1]]
                try:
                    results = gate.evaluate(GateContext(self.release, self.ctx, rt.adapters))
                except ReleaseError as exc:
                    self._finish(DeploymentStatus.FAILED, f"{plan.action}.failed",
                                 {"stage": stage.name, "error": exc.message, "details": exc.reasons},
                                 reason=f"{stage.name}: {exc.message}")
                    raise
                self.gate_results += results
                failed = [r for r in results if r.blocking]
                for r in results:
                    rt.progress(f"  {stage.name} [{r.target}]: {r.outcome.value} - {r.summary}")
                reasons += [f"{stage.name} failed for {r.target}: {r.summary}" for r in failed]
                with rt.store.transaction() as tx:
                    tx.add_gate_results(self.dep_id, results)
                    if not failed:
                        tx.update_deployment(self.dep_id, stage=(stage.name, rt.wall()))
        if reasons:
            self._finish(DeploymentStatus.BLOCKED, f"{plan.action}.blocked",
                         {"reasons": reasons, "gate_results": [g.to_json() for g in self.gate_results]},
                         reason="; ".join(reasons))
            rt.progress(f"blocked: {plan.env} unchanged")
            result.status, result.exit_code, result.reasons = "blocked", 1, reasons
            result.gate_results = self.gate_results
            return result

        # DEPLOY: atomic switches. Failures from here on switch the env back.
        try:
            for stage in [s for s in plan.stages if s.kind == StageKind.DEPLOY]:
                assert stage.artifact is not None
                artifact = stage.artifact
                adapter = rt.adapters[artifact.kind]
                _maybe_pause([stage.name, stage.kind.value])
                before = adapter.current(self.ctx, artifact.name)
                started = time.monotonic()
                if plan.action == "rollback":
                    outcome = adapter.rollback(self.ctx, artifact)
                else:
                    outcome = adapter.deploy(artifact, self.ctx)
                if outcome.changed:
                    self.switched.append((artifact, before))
                rt.progress(f"  {stage.name}: {outcome.message} ({time.monotonic() - started:.3f}s)")
                result.messages.append(outcome.message)
                self._stage_done(stage, (f"{plan.action}.switch", {
                    "deployment_id": self.dep_id, "kind": artifact.kind.value, "name": artifact.name,
                    "from": before, "to": artifact.sha256, "changed": outcome.changed}))
                _maybe_pause([f"after:{stage.name}", f"after:{stage.kind.value}"])

            # VERIFY what is now live.
            verify = next(s for s in plan.stages if s.kind == StageKind.VERIFY)
            _maybe_pause([verify.name, verify.kind.value])
            kinds = sorted({a.kind for a in self.release.artifacts}, key=lambda k: k.value)
            # Kinds are independent and their verifications are separate processes: run them side by side, so a
            # rollback takes as long as the slowest check, not the sum of all of them.
            with ThreadPoolExecutor(max_workers=max(1, len(kinds))) as pool:
                results = list(pool.map(lambda k: _verify(rt.adapters[k], self.ctx, plan.action), kinds))
        except Exception as exc:
            notes = self._switch_back()
            msg = exc.message if isinstance(exc, ReleaseError) else f"{type(exc).__name__}: {exc}"
            self._finish(DeploymentStatus.FAILED, f"{plan.action}.failed",
                         {"error": msg, "switched_back": notes}, reason=f"error after switch: {msg}")
            raise
        self.gate_results += results
        failed = [r for r in results if r.blocking]
        for r in results:
            rt.progress(f"  verify [{r.target}]: {r.outcome.value} - {r.summary}")
        if failed:
            with rt.store.transaction() as tx:
                tx.add_gate_results(self.dep_id, results)
            notes = self._switch_back()
            for n in notes:
                rt.progress(f"  switched back: {n}")
            reasons = [f"verify failed for {r.target}: {r.summary}" for r in failed]
            self._finish(DeploymentStatus.FAILED, f"{plan.action}.failed",
                         {"reasons": reasons, "switched_back": notes,
                          "gate_results": [g.to_json() for g in results]}, reason="; ".join(reasons))
            result.status, result.exit_code, result.reasons = "failed", 1, reasons
            result.gate_results = self.gate_results
            return result
        self._stage_done(verify, results=results)
        _maybe_pause(["after:verify"])

        # RECORD: live pointers + succeeded, one transaction with its audit entry.
        record = next(s for s in plan.stages if s.kind == StageKind.RECORD)
        _maybe_pause([record.name, record.kind.value])
        previous_release = None
        if plan.action == "rollback":
            from northstar_release.plan import live_release_id

            previous_release = live_release_id(rt.store, plan.env)
        with rt.store.transaction() as tx:
            for artifact in self.release.artifacts:
                tx.set_live(plan.env, artifact.kind.value, artifact.name, artifact.sha256, self.release.id)
            if previous_release and previous_release != self.release.id:
                for old in rt.store.deployments(env=plan.env, release_id=previous_release):
                    if old.status == DeploymentStatus.SUCCEEDED and old.id is not None:
                        tx.update_deployment(old.id, status=DeploymentStatus.ROLLED_BACK,
                                             reason=f"rolled back by deployment #{self.dep_id}: {self.reason}")
            tx.update_deployment(self.dep_id, status=DeploymentStatus.SUCCEEDED, stage=(record.name, rt.wall()),
                                 finished_at=rt.wall())
            tx.append_audit(plan.actor, f"{plan.action}.succeeded", self.release.id, plan.env, {
                "deployment_id": self.dep_id, "digests": {a.name: a.sha256 for a in self.release.artifacts},
                "rolled_back_from": previous_release, "reason": self.reason,
                "verify": [g.to_json() for g in results],
                # Every gate result of this deployment goes into the hash chain, not only the unchained table.
                "gate_results": [g.to_json() for g in self.gate_results],
                "stages": [s.name for s in plan.stages]})
        rt.progress(f"succeeded: {self.release.id} is live in {plan.env}")
        result.status, result.gate_results = "succeeded", self.gate_results
        return result


def _verify(adapter: ArtifactAdapter, ctx: EnvContext, action: str) -> GateResult:
    """Post-switch verification. A rollback target already passed full verification in this env, so adapters whose
    full verification is slow may offer ``verify_rollback`` (an integrity check of the known-good bytes) instead."""
    rollback_verify = getattr(adapter, "verify_rollback", None)
    if action == "rollback" and callable(rollback_verify):
        result: GateResult = rollback_verify(ctx)
        return result
    return adapter.verify(ctx)


def already_done(rt: Runtime, release: Release, env: str) -> bool:
    """True when every artifact is live (recorded and on disk) and a succeeded deployment of the release exists."""
    ctx = rt.env_context(env)
    live = rt.store.live(env)
    for artifact in release.artifacts:
        if live.get((artifact.kind.value, artifact.name), (None, None))[0] != artifact.sha256:
            return False
        if rt.adapters[artifact.kind].current(ctx, artifact.name) != artifact.sha256:
            return False
    return checks.succeeded_in(rt.store, release.id, env)


def apply(plan: ReleasePlan, release: Release, rt: Runtime, *, wait: bool = False, reason: str = "") -> ApplyResult:
    """Apply ``plan`` under ``plan.env``'s lock. Raises LockHeld (exit 3) unless ``wait``."""
    with rt.store.env_lock(plan.env, wait=wait):
        recovered = recover_abandoned(rt, plan.env, plan.actor)
        if already_done(rt, release, plan.env):
            msg = f"{release.id} is already live in {plan.env} with a succeeded deployment: nothing to do"
            rt.progress(msg)
            return ApplyResult(status="noop", exit_code=0, release_id=release.id, env=plan.env, action=plan.action,
                               messages=[msg], recovered=recovered)
        result = _Run(plan, release, rt, reason).apply()
        result.recovered = recovered
        return result
