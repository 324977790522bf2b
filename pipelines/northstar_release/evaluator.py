"""The plan evaluator: applies a ``ReleasePlan`` stage by stage, in plan order, under the environment lock.

Shaped like SQLMesh's ``sqlmesh/core/plan/evaluator.py``: one ``visit_<stage>`` method per stage type (stages.py),
dispatched on the stage's type -- never on its name. Why it is built this way:
* Every state change lands in one transaction with the audit entry that records it (state/base.py), so the audit
  trail cannot miss a change the state shows.
* CHECK and GATE stages run before anything in the env is touched; a failure leaves the env exactly as it was
  (status ``blocked``, exit 1). Gates are skipped once a check blocked (their verdict would not change the outcome).
  Gates of different kinds compute their verdicts side by side (gate_batch.py); they are recorded in plan order.
* DEPLOY switches each artifact atomically through its adapter, in the direction the stage says (forward or
  rollback). Live pointers in state are written only in RECORD, after VERIFY passed, so "live in state" always means
  "verified"; a VERIFY failure switches the env back to the artifacts that were live before (status ``failed``).
* Crash safety: adapters switch with an atomic rename, so a SIGKILL leaves every artifact old or new. The next run
  under the lock finds the dead run's ``running`` deployment, marks it failed (recovery.py), and re-applies: deploys
  are idempotent, so re-running the same command converges.

Test hook: ``NORTHSTAR_TEST_PAUSE_AT=<point>`` makes the evaluator print ``PAUSED <point> pid=<pid>`` to stderr and
sleep ``NORTHSTAR_TEST_PAUSE_SECONDS`` (default 30) at that point, so crash tests can SIGKILL it mid-flight. A point is
a stage name (``verify``), a stage kind (``deploy``) -- both pause *before* the stage -- or ``after:<stage name or
kind>``. Never set it in production.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import Enum
from typing import Any

from northstar_release import checks, faults
from northstar_release.adapters.base import ClearRequest, DeployOutcome, SwitchRequest, VerifyRequest
from northstar_release.errors import ReleaseError
from northstar_release.gate_batch import GateBatch, start_gates
from northstar_release.model import Artifact, Deployment, DeploymentStatus, GateResult, Release
from northstar_release.prestart import prestarted
from northstar_release.recovery import Runtime, actual_live, find_artifact, pointers, recover_abandoned
from northstar_release.stages import (
    CheckStage,
    DeployStage,
    GateStage,
    RecordStage,
    ReleasePlan,
    Stage,
    StageKind,
    SwitchMode,
    VerifyStage,
    VerifyTarget,
)

__all__ = ["ApplyResult", "ApplyStatus", "PlanEvaluator", "Runtime", "apply", "already_done", "find_artifact",
           "recover_abandoned"]


class ApplyStatus(str, Enum):
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    BLOCKED = "blocked"
    FAILED = "failed"
    NOOP = "noop"


@dataclass
class ApplyResult:
    status: ApplyStatus
    exit_code: int
    release_id: str
    env: str
    action: str
    deployment_id: int | None = None
    reasons: list[str] = field(default_factory=list)
    gate_results: list[GateResult] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)
    recovered: list[int] = field(default_factory=list)
    switches: list[dict[str, Any]] = field(default_factory=list)  # per DEPLOY stage: kind, name, changed, evidence

    def to_json(self) -> dict[str, Any]:
        return {
            "status": self.status.value, "exit_code": self.exit_code, "release_id": self.release_id, "env": self.env,
            "action": self.action, "deployment_id": self.deployment_id, "reasons": self.reasons,
            "gate_results": [g.to_json() for g in self.gate_results], "messages": self.messages,
            "recovered_deployments": self.recovered, "switches": self.switches,
        }


class _Stop(Exception):
    """A visit ended the run with a final result (blocked or failed); ``apply`` returns it."""

    def __init__(self, result: ApplyResult) -> None:
        super().__init__(result.status.value)
        self.result = result


def _maybe_pause(point_names: list[str]) -> None:
    wanted = os.environ.get("NORTHSTAR_TEST_PAUSE_AT", "").strip()
    if wanted and wanted in point_names:
        print(f"PAUSED {wanted} pid={os.getpid()}", file=sys.stderr, flush=True)
        time.sleep(float(os.environ.get("NORTHSTAR_TEST_PAUSE_SECONDS", "30")))


class PlanEvaluator:
    """One application of one plan: visits its stages in order; holds the deployment id and what was switched."""

    def __init__(self, plan: ReleasePlan, release: Release, rt: Runtime, reason: str) -> None:
        self.plan, self.release, self.rt, self.reason = plan, release, rt, reason
        self.env = rt.environments[plan.env]
        self.ctx = rt.env_context(plan.env)
        self._dep_id: int | None = None
        self.switched: list[tuple[Artifact, str | None]] = []  # (new artifact, digest live before)
        self.outcomes: list[DeployOutcome] = []
        self.gate_results: list[GateResult] = []
        self.verify_results: list[GateResult] = []
        self.check_reasons: list[str] = []
        self.gate_reasons: list[str] = []
        self._gates: GateBatch | None = None  # started at the first gate stage (after the checks passed)
        self.result = ApplyResult(status=ApplyStatus.RUNNING, exit_code=0, release_id=plan.release_id, env=plan.env,
                                  action=plan.action.value)
        self._visitors: dict[type, Callable[[Any], None]] = {
            CheckStage: self.visit_check_stage, GateStage: self.visit_gate_stage,
            DeployStage: self.visit_deploy_stage, VerifyStage: self.visit_verify_stage,
            RecordStage: self.visit_record_stage,
        }

    @property
    def dep_id(self) -> int:
        """The deployment row's id; only valid once ``evaluate`` has started the deployment."""
        if self._dep_id is None:
            raise RuntimeError("no deployment row yet: evaluate() has not started the deployment")
        return self._dep_id

    # -- the loop -----------------------------------------------------------------------------------------------------
    def evaluate(self) -> ApplyResult:
        self._start()
        faults.point("start")
        try:
            for stage in self.plan.stages:
                if stage.kind in (StageKind.DEPLOY, StageKind.VERIFY, StageKind.RECORD):
                    self._block_if_needed()
                _maybe_pause([stage.name, stage.kind.value])
                faults.point(f"before:{stage.name}")
                self._visitors[type(stage)](stage)
                faults.point(f"after:{stage.name}")
            self._block_if_needed()
        except _Stop as stop:
            return stop.result
        except BaseException as exc:
            # Any way out of here but a verdict (a refused/corrupted artifact blob, a component error, Ctrl-C, SIGTERM
            # mapped to SystemExit by the CLI) closes the deployment as failed before the error propagates: an aborted
            # deployment must never stay ``running``. Only SIGKILL skips this; recovery.py closes those rows.
            self.rt.stop_components()  # gates still computing on other threads (gate_batch.py) are not needed
            if self._gates is not None:
                self._gates.blocked.set()  # ... nor the tests gate's Pants run (it is interrupted)
            try:
                notes = self._switch_back()
            except Exception as back:  # noqa: BLE001 - the row must still be closed; the failure is recorded
                notes = [f"switching back failed: {type(back).__name__}: {back}"]
            msg = exc.message if isinstance(exc, ReleaseError) else f"{type(exc).__name__}: {exc}"
            details = exc.reasons if isinstance(exc, ReleaseError) else []
            self._finish(DeploymentStatus.FAILED, f"{self.plan.action.value}.failed",
                         {"error": msg, "details": details, "switched_back": notes},
                         reason=f"error{' after switch' if notes else ''}: {msg}")
            raise
        self.result.status, self.result.gate_results = ApplyStatus.SUCCEEDED, self.gate_results
        return self.result

    # -- visitors -----------------------------------------------------------------------------------------------------
    def visit_check_stage(self, stage: CheckStage) -> None:
        rt = self.rt
        found = checks.run_check(stage.check, self.release, self.env, rt.store, rt.environments, rt.now())
        rt.progress(f"  {stage.name}: {'BLOCKED' if found else 'ok'}")
        self.check_reasons += found
        if not found:
            self._stage_done(stage)

    def visit_gate_stage(self, stage: GateStage) -> None:
        if self.check_reasons:
            return  # blocked already: nothing to learn from running a gate
        if self._gates is None:
            self._gates = start_gates(self.plan, self.release, self.ctx, self.rt)
        results = self._gates.results(stage.name)
        self.gate_results += results
        failed = [r for r in results if r.blocking]
        for r in results:
            self.rt.progress(f"  {stage.name} [{r.target}]: {r.outcome.value} - {r.summary}")
        self.gate_reasons += [f"{stage.name} failed for {r.target}: {r.summary}" for r in failed]
        with self.rt.store.transaction() as tx:
            tx.add_gate_results(self.dep_id, results)
            if not failed:
                tx.update_deployment(self.dep_id, stage=(stage.name, self.rt.wall()))

    def visit_deploy_stage(self, stage: DeployStage) -> None:
        artifact, rt = stage.artifact, self.rt
        adapter = rt.adapters[artifact.kind]
        before = pointers(adapter, self.ctx).get(artifact.name)  # recovery reconciled it with what runs
        started = time.monotonic()
        outcome = adapter.switch(SwitchRequest(artifact=artifact, env=self.ctx, mode=stage.mode,
                                               release_id=self.release.id, acks=self.release.acks))
        if outcome.changed:
            self.switched.append((artifact, before))
        self.outcomes.append(outcome)
        rt.progress(f"  {stage.name}: {outcome.message} ({time.monotonic() - started:.3f}s)")
        self.result.messages.append(outcome.message)
        self.result.switches.append({"kind": artifact.kind.value, "name": artifact.name, "sha256": artifact.sha256,
                                     "changed": outcome.changed, "message": outcome.message,
                                     "evidence": outcome.evidence})
        self._stage_done(stage, (f"{self.plan.action.value}.switch", {
            "deployment_id": self.dep_id, "kind": artifact.kind.value, "name": artifact.name,
            "from": before, "to": artifact.sha256, "changed": outcome.changed, "mode": stage.mode.value}))
        _maybe_pause([f"after:{stage.name}", f"after:{stage.kind.value}"])

    def visit_verify_stage(self, stage: VerifyStage) -> None:
        # Kinds are independent and their verifications are separate processes: run them side by side, so the stage
        # takes as long as the slowest check, not the sum of all of them.
        with ThreadPoolExecutor(max_workers=max(1, len(stage.targets))) as pool:
            results = list(pool.map(self._verify_target, stage.targets))
        self.gate_results += results
        failed = [r for r in results if r.blocking]
        for r in results:
            self.rt.progress(f"  verify [{r.target}]: {r.outcome.value} - {r.summary}")
        if failed:
            with self.rt.store.transaction() as tx:
                tx.add_gate_results(self.dep_id, results)
            notes = self._switch_back()
            for n in notes:
                self.rt.progress(f"  switched back: {n}")
            reasons = [f"verify failed for {r.target}: {r.summary}" for r in failed]
            self._finish(DeploymentStatus.FAILED, f"{self.plan.action.value}.failed",
                         {"reasons": reasons, "switched_back": notes,
                          "gate_results": [g.to_json() for g in results]}, reason="; ".join(reasons))
            raise _Stop(self._final(ApplyStatus.FAILED, reasons))
        self.verify_results = results
        self._stage_done(stage, results=results)
        _maybe_pause([f"after:{stage.name}"])

    def visit_record_stage(self, stage: RecordStage) -> None:
        from northstar_release.plan import live_release_id

        rt, plan = self.rt, self.plan
        previous_release = live_release_id(rt.store, plan.env) if stage.mark_rolled_back else None
        with rt.store.transaction() as tx:
            for artifact in self.release.artifacts:
                tx.set_live(plan.env, artifact.kind.value, artifact.name, artifact.sha256, self.release.id)
            if previous_release and previous_release != self.release.id:
                for old in rt.store.deployments(env=plan.env, release_id=previous_release):
                    if old.status == DeploymentStatus.SUCCEEDED and old.id is not None:
                        tx.update_deployment(old.id, status=DeploymentStatus.ROLLED_BACK,
                                             reason=f"rolled back by deployment #{self.dep_id}: {self.reason}")
            tx.update_deployment(self.dep_id, status=DeploymentStatus.SUCCEEDED, stage=(stage.name, rt.wall()),
                                 finished_at=rt.wall())
            tx.append_audit(plan.actor, f"{plan.action.value}.succeeded", self.release.id, plan.env, {
                "deployment_id": self.dep_id, "digests": {a.name: a.sha256 for a in self.release.artifacts},
                "rolled_back_from": previous_release, "reason": self.reason,
                "verify": [g.to_json() for g in self.verify_results],
                # Every gate result of this deployment goes into the hash chain, not only the unchained table.
                "gate_results": [g.to_json() for g in self.gate_results],
                "stages": [s.name for s in plan.stages]})
        rt.progress(f"succeeded: {self.release.id} is live in {plan.env}")

    # -- helpers ------------------------------------------------------------------------------------------------------
    def _start(self) -> None:
        plan, rt = self.plan, self.rt
        with rt.store.transaction() as tx:
            dep = tx.start_deployment(Deployment(release_id=self.release.id, env=plan.env,
                                                 status=DeploymentStatus.RUNNING, actor=plan.actor,
                                                 action=plan.action, started_at=rt.wall(), reason=self.reason))
            tx.append_audit(plan.actor, f"{plan.action.value}.start", self.release.id, plan.env,
                            {"deployment_id": dep.id, "plan": plan.to_json(), "reason": self.reason,
                             "git_commit": self.release.git_commit,
                             "digests": {a.name: a.sha256 for a in self.release.artifacts},
                             # A clock override (NORTHSTAR_NOW) bypasses freeze windows; auditors must see it.
                             "clock": {"policy_now": rt.now().isoformat(),
                                       "wall_clock": datetime.now(UTC).isoformat(),
                                       "override": os.environ.get("NORTHSTAR_NOW") or None}})
        self._dep_id = self.result.deployment_id = dep.persisted_id()
        rt.progress(f"deployment #{dep.id}: {plan.action.value} {self.release.id} -> {plan.env}")

    def _block_if_needed(self) -> None:
        reasons = self.check_reasons + self.gate_reasons
        if not reasons:
            return
        self._finish(DeploymentStatus.BLOCKED, f"{self.plan.action.value}.blocked",
                     {"reasons": reasons, "gate_results": [g.to_json() for g in self.gate_results]},
                     reason="; ".join(reasons))
        self.rt.progress(f"blocked: {self.plan.env} unchanged")
        raise _Stop(self._final(ApplyStatus.BLOCKED, reasons))

    def _final(self, status: ApplyStatus, reasons: list[str]) -> ApplyResult:
        self.result.status, self.result.exit_code, self.result.reasons = status, 1, reasons
        self.result.gate_results = self.gate_results
        return self.result

    def _verify_target(self, target: VerifyTarget) -> GateResult:
        adapter = self.rt.adapters[target.kind]
        switched = tuple(o for o in self.outcomes if o.name in target.names)
        result = adapter.verify(VerifyRequest(env=self.ctx, names=target.names, mode=target.mode, switched=switched))
        digests = {a.name: a.sha256 for a in self.release.artifacts
                   if a.kind == target.kind and a.name in target.names}
        evidence = {**result.evidence, "verified": {"kind": target.kind.value, "mode": target.mode.value,
                                                   "digests": digests}}
        update: dict[str, Any] = {"evidence": evidence}
        if target.reused_from is not None and not result.blocking:
            ref = target.reused_from
            update["reused_from"] = ref
            update["summary"] = (f"{result.summary}; full verification reused from {ref.env} deployment "
                                 f"#{ref.deployment_id} (audit seq {ref.audit_seq})")
        return result.model_copy(update=update)

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
                notes.append(adapter.clear(ClearRequest(env=self.ctx, name=artifact.name)).message)
                continue
            before = find_artifact(self.rt.store, artifact.kind.value, artifact.name, previous)
            if before is None:
                notes.append(f"cannot switch {artifact.name} back: no stored artifact has digest {previous}")
                continue
            notes.append(adapter.switch(SwitchRequest(artifact=before, env=self.ctx, mode=SwitchMode.ROLLBACK,
                                                      release_id=self.release.id)).message)
        self.switched = []
        return notes


def already_done(rt: Runtime, release: Release, env: str) -> bool:
    """True when every artifact is live (recorded and on disk) and a succeeded deployment of the release exists."""
    live = rt.store.live(env)
    on_disk = actual_live(rt, env)
    for artifact in release.artifacts:
        key = (artifact.kind.value, artifact.name)
        if live.get(key, (None, None))[0] != artifact.sha256 or on_disk.get(key) != artifact.sha256:
            return False
    return checks.succeeded_in(rt.store, release.id, env)


def apply(plan: ReleasePlan, release: Release, rt: Runtime, *, wait: bool = False, reason: str = "") -> ApplyResult:
    """Apply ``plan`` under ``plan.env``'s lock. Raises LockHeld (exit 3) unless ``wait``."""
    with rt.store.env_lock(plan.env, wait=wait), prestarted(plan, rt):
        recovered = recover_abandoned(rt, plan.env, plan.actor)
        faults.point("recovered")
        if already_done(rt, release, plan.env):
            msg = f"{release.id} is already live in {plan.env} with a succeeded deployment: nothing to do"
            rt.progress(msg)
            return ApplyResult(status=ApplyStatus.NOOP, exit_code=0, release_id=release.id, env=plan.env,
                               action=plan.action.value, messages=[msg], recovered=recovered)
        result = PlanEvaluator(plan, release, rt, reason).evaluate()
        result.recovered = recovered
        return result
