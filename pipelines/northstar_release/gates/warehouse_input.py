"""What the gates that drive the warehouse entry point themselves (data_quality, contract, freshness) share.

Both need the release's warehouse-project artifacts and the adapter that extracts them; without either they must not
pass silently (a control that cannot run must not look like it passed), so the refusal is built here once.
"""

from __future__ import annotations

from collections.abc import Iterable
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


def entry_args(subcommand: str, ctx: GateContext, got: WarehouseInput, artifact: Artifact) -> list[str]:
    """The entry point's arguments for one warehouse artifact in ``ctx``'s env: project (extracted), warehouse, state,
    env and the release's acknowledgements -- the same for every gate that writes ``wap_<env>``."""
    folder = got.adapter.ensure_extracted(artifact, ctx.env)
    warehouse, state = got.adapter.warehouse_paths(ctx.env)
    args = [subcommand, "--project", str(folder), "--warehouse", str(warehouse), "--state", str(state),
            "--env", ctx.env.env]
    for ack in ctx.release.acks:
        args += ["--ack", ack]
    return args


def status_counts(statuses: Iterable[str]) -> str:
    """``"3 ok, 1 acknowledged"``: how many models ended in each status, sorted by status."""
    counts: dict[str, int] = {}
    for status in statuses:
        counts[status] = counts.get(status, 0) + 1
    return ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
