"""Which component processes a plan starts early, and for how long they live.

Why its own module: the evaluator visits stages; deciding which entry points to warm-start
(``KindSpec.warm_start``) and dismissing the unused ones afterwards is a lifetime concern around the whole
evaluation, not a stage. The protocol itself is in :mod:`northstar_release.warm_start` (engine side) and
``northstar_contracts.warm_start`` (component side); ADR 0003 records the decision.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

from northstar_release.gates import GATES
from northstar_release.kinds.registry import KindRegistry
from northstar_release.recovery import Runtime
from northstar_release.stages import DeployStage, GateStage, ReleasePlan


def warm_uses(plan: ReleasePlan, kinds: KindRegistry) -> list[tuple[str, str, int]]:
    """Per kind with a ``warm_start`` subcommand that this plan switches: how many calls to serve warm -- one per
    switch, plus one when an environment-dependent gate of the kind runs, because such a gate may call the same
    subcommand first (``warehouse_audit`` in a promotion plans into the env: without the extra process the switch
    after it would start cold). A process no call takes only cost its import; it is dismissed at the end."""
    switches = Counter(s.artifact.kind for s in plan.stages if isinstance(s, DeployStage) and not s.skip_reason)
    gated = {GATES[s.gate].kind for s in plan.stages if isinstance(s, GateStage) and s.environment_dependent}
    specs = [(kinds.get(kind), calls + (kind in gated)) for kind, calls in switches.items()]
    return [(spec.entry_point, spec.warm_start, calls) for spec, calls in specs if spec is not None and spec.warm_start]


def prestart_every_kind(rt: Runtime) -> None:
    """Start each warm-start kind's entry point before the plan is known. The CLI calls this as soon as it has a
    runtime for a command that will apply a plan, so the import overlaps the CLI's own start, recovery and planning
    too (a prod rollback's warehouse switch waited ~1.2 s for it when it started at :func:`prestarted`).
    :func:`prestarted` then sets how many calls the plan needs; a process the plan does not need is dismissed unused
    when the evaluation ends, or exits with the CLI (end of its input, parent-death signal)."""
    for spec in rt.kinds:
        if spec.warm_start:
            rt.prestart(spec.entry_point, spec.warm_start, 1)


@contextmanager
def prestarted(plan: ReleasePlan, rt: Runtime) -> Iterator[None]:
    """Start the process of each kind this plan will switch whose KindSpec names a ``warm_start`` subcommand, so its
    imports overlap recovery and the stages before the switch (a prod rollback's warehouse switch: ~1.5-2.5 s), and
    dismiss whatever the evaluation did not use when the block ends, however it ends."""
    for entry_point, subcommand, uses in warm_uses(plan, rt.kinds):
        rt.prestart(entry_point, subcommand, uses)
    try:
        yield
    finally:
        rt.dismiss_prestarted()
