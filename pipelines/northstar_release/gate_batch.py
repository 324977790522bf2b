"""A plan's gate verdicts: which each gate stage needs (reused evidence or a run), computed side by side, one worker
per artifact kind, handed to the evaluator in plan order.

Why: a gate waits on its kind's component process (a promotion's plan into prod 3.4 s, the infra policy check 1.0 s,
the cost estimate 1.7 s); one after another they were half of a 14 s prod promotion. Gates of *different* kinds share
nothing -- each kind's component owns its files (the warehouse and its lock, the stack state, the DAG folder) -- so
they run at once, as the VERIFY stage's kinds already do. Gates of *one* kind run one after another on one worker, in
plan order, because they may share the kind's resources (``warehouse_audit`` and ``data_quality`` both open the
warehouse).

What stays on the evaluator's thread: everything that reads or writes the state store (the reuse lookup, the
baseline commit, gate results, stage records), progress lines, pauses and fault points, all in plan order -- so the
deployment row and the audit record are exactly what a one-at-a-time run writes. A gate only computes a verdict (it
changes nothing), so starting it before the evaluator reaches its stage changes no outcome.

Once any gate's verdict blocks, the batch sets ``GateContext.blocked``: a gate still running for minutes (the tests
gate) may stop then, since the release cannot enter the env whatever else it finds; the aborted run says so.

Workers are daemon threads: when the CLI is interrupted (Ctrl-C, SIGTERM) the evaluator kills the component
processes gates still wait on (``Runtime.stop_components``), closes the deployment as failed and exits without
waiting for a worker; a process it missed still has its parent-death signal (``component_process.die_with_parent``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from functools import partial

from northstar_release.adapters.base import EnvContext
from northstar_release.audit import canonical_json
from northstar_release.gates import GATES, GateContext
from northstar_release.gates.base import mark_reused
from northstar_release.model import AuditEntry, GateResult, Release
from northstar_release.recovery import Runtime
from northstar_release.stages import GateStage, ReleasePlan

Verdict = Callable[[], list[GateResult]]


@dataclass(frozen=True)
class GateJob:
    """One gate stage's verdict to compute: ``group`` names the kind whose worker runs it."""

    stage: str
    group: str
    verdict: Verdict


class GateBatch:
    """Starts every job at construction (one daemon worker per group); :meth:`results` waits for one stage's."""

    def __init__(self, jobs: Sequence[GateJob], blocked: threading.Event | None = None) -> None:
        self._futures: dict[str, Future[list[GateResult]]] = {job.stage: Future() for job in jobs}
        self.blocked = blocked or threading.Event()  # set at the first blocking verdict (or a gate's exception)
        groups: dict[str, list[GateJob]] = {}
        for job in jobs:
            groups.setdefault(job.group, []).append(job)
        for group, queue in groups.items():
            threading.Thread(target=self._work, args=(queue,), name=f"gate-{group}", daemon=True).start()

    def _work(self, queue: list[GateJob]) -> None:
        for i, job in enumerate(queue):
            future = self._futures[job.stage]
            try:
                results = job.verdict()
            except BaseException as exc:  # noqa: BLE001 - re-raised on the evaluator's thread at this stage
                self.blocked.set()
                future.set_exception(exc)
                for later in queue[i + 1:]:  # the evaluator stops at this stage: the rest of the kind is not needed
                    self._futures[later.stage].cancel()
                return
            if any(r.blocking for r in results):
                self.blocked.set()
            future.set_result(results)

    def results(self, stage: str) -> list[GateResult]:
        """The stage's verdict, once computed; a gate's exception is raised here, on the caller's thread."""
        return self._futures[stage].result()


def start_gates(plan: ReleasePlan, release: Release, env: EnvContext, rt: Runtime) -> GateBatch:
    """Every gate stage's verdict, started at once. An environment-independent gate whose evidence from the previous
    env is still in the chain is reused as it is; any other gate is given that evidence (``GateContext.prior``)."""
    baseline = baseline_commit(rt)
    chain = {e.seq: e for e in rt.store.audit_entries_of(release.id)}  # reuse is within one release
    blocked = threading.Event()
    jobs = []
    for stage in (s for s in plan.stages if isinstance(s, GateStage)):
        reusable, gate = _reused(stage, chain), GATES[stage.gate]
        ctx = GateContext(release, env, rt.adapters, prior=stage.reuse if reusable else (),
                          prior_ref=stage.reused_from if reusable else None, baseline_commit=baseline, repo=rt.repo,
                          blocked=blocked)
        reuse = bool(reusable) and not stage.environment_dependent
        jobs.append(GateJob(stage.name, "reused" if reuse else gate.kind.value,
                            partial(list, reusable) if reuse else partial(gate.evaluate, ctx)))
    return GateBatch(jobs, blocked)


def baseline_commit(rt: Runtime) -> str | None:
    """The commit live in the furthest environment (by order) that has a release live; None if none has."""
    from northstar_release.plan import live_release_id

    for env in sorted(rt.environments.values(), key=lambda e: -e.order):
        rid = live_release_id(rt.store, env.name)
        release = rt.store.get_release(rid) if rid else None
        if release is not None:
            return release.git_commit
    return None


def _reused(stage: GateStage, chain: dict[int, AuditEntry]) -> list[GateResult]:
    """The plan's reusable results, if their original audit entry is still in the chain unchanged and chains these
    very verdicts. Why the second check: the plan reads them from the gate-results table, which the chain does not
    vouch for row by row; an edited row (an outcome, a ``tests`` base) must not decide what a promotion skips."""
    ref = stage.reused_from
    entry = chain.get(ref.audit_seq) if ref is not None else None
    if ref is None or not stage.reuse or entry is None or entry.hash != ref.audit_hash:
        return []
    chained = [g for g in entry.payload.get("gate_results") or [] if isinstance(g, dict) and g.get("gate") == stage.gate]
    if sorted(map(_verdict, stage.reuse)) != sorted(_verdict(GateResult.model_validate(g)) for g in chained):
        return []
    return mark_reused(stage.reuse, ref)


def _verdict(result: GateResult) -> str:
    """What a reused result must agree on with the chained one (its summary and ``reused_from`` change on reuse)."""
    return canonical_json([result.gate, result.target, result.outcome.value, result.evidence])
