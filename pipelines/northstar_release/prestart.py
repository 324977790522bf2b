"""Which component processes a plan starts early, and for how long they live.

Why its own module: the evaluator visits stages; deciding which entry points to warm-start
(``KindSpec.warm_start``) and dismissing the unused ones afterwards is a lifetime concern around the whole
evaluation, not a stage. The protocol itself is in :mod:`northstar_release.warm_start` (engine side) and
``northstar_contracts.warm_start`` (component side); ADR 0003 records the decision.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from northstar_release.recovery import Runtime
from northstar_release.stages import DeployStage, ReleasePlan


@contextmanager
def prestarted(plan: ReleasePlan, rt: Runtime) -> Iterator[None]:
    """Start the process of each kind this plan will switch whose KindSpec names a ``warm_start`` subcommand, so its
    imports overlap recovery and the stages before the switch (a prod rollback's warehouse switch: ~1.5-2.5 s), and
    dismiss whatever the evaluation did not use when the block ends, however it ends."""
    for stage in plan.stages:
        if isinstance(stage, DeployStage) and not stage.skip_reason:
            spec = rt.kinds.get(stage.artifact.kind)
            if spec is not None and spec.warm_start:
                rt.prestart(spec.entry_point, spec.warm_start)
    try:
        yield
    finally:
        rt.dismiss_prestarted()
