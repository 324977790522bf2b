"""The gate protocol: a named, automated check run before a release may enter an environment.

Why gates only *delegate*: what "integrity" means is artifact-specific knowledge that lives in the adapter (and behind it
in a component entry point). A gate decides which artifacts of a release it looks at and turns the adapter's verdict into
GateResults that are stored as audit evidence.

``environment_dependent`` is part of the protocol: a gate whose verdict depends only on the artifact bytes (a DagBag
import) is not re-run when the same digests enter the next environment -- its earlier evidence is reused and the
reuse is recorded, pointing at the original audit entry. A gate that looks at the env (a plan into it, the env's
stack config) says True and always runs.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from northstar_release.adapters.base import ArtifactAdapter, CheckRequest, EnvContext
from northstar_release.model import ArtifactKind, EvidenceRef, GateOutcome, GateResult, Release


@dataclass(frozen=True)
class GateContext:
    release: Release
    env: EnvContext
    adapters: Mapping[ArtifactKind, ArtifactAdapter]
    # This gate's passed results for the same digests in the previous env, and where they were first produced: an
    # environment-dependent gate may reuse the parts of its verdict that depend only on the artifact's bytes.
    prior: tuple[GateResult, ...] = ()
    prior_ref: EvidenceRef | None = None
    # The commit of the release live in the furthest environment that has one (prod, else staging, ...; None while
    # nothing is live anywhere): the base a gate diffs the release against (the tests gate's --changed-since).
    baseline_commit: str | None = None
    repo: Path | None = None  # the git repository holding the release's commit (None: not known to this runtime)
    # Set once another gate of the same plan has blocked the release (gate_batch.py): a long gate (the tests gate's
    # Pants run) may stop early, because the release cannot enter the env whatever it finds.
    blocked: threading.Event = field(default_factory=threading.Event)


class Gate(Protocol):
    name: str
    description: str
    kind: ArtifactKind  # the artifact kind the gate examines
    environment_dependent: bool  # False: the verdict depends only on the artifact bytes (reusable across envs)

    def evaluate(self, ctx: GateContext) -> list[GateResult]:
        """Return one result per target examined; any FAILED result blocks the deployment."""
        ...


def check_artifacts(ctx: GateContext, gate: str, kind: ArtifactKind) -> list[GateResult]:
    """The skeleton every gate shares: run the ``kind`` adapter's ``check`` on each artifact of that kind in the release.

    A release without such an artifact passes (there is nothing of that kind to enter the env); a release that has one
    but no adapter for it fails (a control that cannot run must not look like it passed)."""
    artifacts = [a for a in ctx.release.artifacts if a.kind == kind]
    if not artifacts:
        return [GateResult(gate=gate, target=ctx.release.id, outcome=GateOutcome.PASSED,
                           summary=f"release carries no {kind.value.replace('_', ' ')}")]
    adapter = ctx.adapters.get(kind)
    if adapter is None:
        return [GateResult(gate=gate, target=ctx.release.id, outcome=GateOutcome.FAILED,
                           summary=f"no {kind.value} adapter configured")]
    acks = ctx.release.acks
    return [adapter.check(CheckRequest(artifact=artifact, env=ctx.env, release_id=ctx.release.id, acks=acks))
            .model_copy(update={"gate": gate}) for artifact in artifacts]


def mark_reused(results: Sequence[GateResult], ref: EvidenceRef, why: str = "") -> list[GateResult]:
    """``results`` re-pointed at the audit entry that first produced them: ``reused_from`` set and the summary prefixed
    with where they come from (and ``why`` they still hold), so the record says it is evidence carried over, not a run.
    A result already reused keeps its summary (it names the original entry, not the hop before)."""
    prefix = f"reused from {ref.env} deployment #{ref.deployment_id} (audit seq {ref.audit_seq})"
    prefix += f": {why}" if why else ""
    return [r.model_copy(update={"reused_from": ref,
                                 "summary": r.summary if r.reused_from else f"{prefix}: {r.summary}"})
            for r in results]
