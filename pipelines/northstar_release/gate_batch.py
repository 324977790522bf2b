"""Gate verdicts computed side by side, one worker per artifact kind, handed to the evaluator in plan order.

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

Workers are daemon threads: when the CLI is interrupted (Ctrl-C, SIGTERM) the evaluator closes the deployment as
failed and exits without waiting for a running gate; its component process is started with a parent-death signal
(``runner.die_with_parent``) and goes with it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass

from northstar_release.model import GateResult

Verdict = Callable[[], list[GateResult]]


@dataclass(frozen=True)
class GateJob:
    """One gate stage's verdict to compute: ``group`` names the kind whose worker runs it."""

    stage: str
    group: str
    verdict: Verdict


class GateBatch:
    """Starts every job at construction (one daemon worker per group); :meth:`results` waits for one stage's."""

    def __init__(self, jobs: Sequence[GateJob]) -> None:
        self._futures: dict[str, Future[list[GateResult]]] = {job.stage: Future() for job in jobs}
        groups: dict[str, list[GateJob]] = {}
        for job in jobs:
            groups.setdefault(job.group, []).append(job)
        for group, queue in groups.items():
            threading.Thread(target=self._work, args=(queue,), name=f"gate-{group}", daemon=True).start()

    def _work(self, queue: list[GateJob]) -> None:
        for i, job in enumerate(queue):
            future = self._futures[job.stage]
            try:
                future.set_result(job.verdict())
            except BaseException as exc:  # noqa: BLE001 - re-raised on the evaluator's thread at this stage
                future.set_exception(exc)
                for later in queue[i + 1:]:  # the evaluator stops at this stage: the rest of the kind is not needed
                    self._futures[later.stage].cancel()
                return

    def results(self, stage: str) -> list[GateResult]:
        """The stage's verdict, once computed; a gate's exception is raised here, on the caller's thread."""
        return self._futures[stage].result()
