"""What the gates that drive the warehouse entry point themselves (data_quality, freshness) share.

Both need the release's warehouse-project artifacts and the adapter that extracts them; without either they must not
pass silently (a control that cannot run must not look like it passed), so the refusal is built here once.
"""

from __future__ import annotations

from dataclasses import dataclass

from northstar_release.adapters.warehouse import WarehouseAdapter
from northstar_release.gates.base import GateContext
from northstar_release.model import Artifact, ArtifactKind, GateOutcome, GateResult


@dataclass(frozen=True)
class WarehouseInput:
    adapter: WarehouseAdapter
    artifacts: tuple[Artifact, ...]


def warehouse_input(ctx: GateContext, gate: str, purpose: str) -> WarehouseInput | list[GateResult]:
    """The adapter and the release's warehouse artifacts, or the gate's final results when there is nothing to do
    (no warehouse artifact: passes) or nothing to do it with (no warehouse adapter: fails, naming ``purpose``)."""
    artifacts = tuple(a for a in ctx.release.artifacts if a.kind == ArtifactKind.WAREHOUSE_PROJECT)
    if not artifacts:
        return [GateResult(gate=gate, target=ctx.release.id, outcome=GateOutcome.PASSED,
                           summary="release carries no warehouse project")]
    adapter = ctx.adapters.get(ArtifactKind.WAREHOUSE_PROJECT)
    if not isinstance(adapter, WarehouseAdapter):
        return [GateResult(gate=gate, target=ctx.release.id, outcome=GateOutcome.FAILED,
                           summary=f"no warehouse adapter configured: {purpose} cannot run")]
    return WarehouseInput(adapter=adapter, artifacts=artifacts)
