"""The typed stages of a release plan, in execution order.

Why one record type per stage (as SQLMesh's ``sqlmesh/core/plan/stages.py``): the evaluator dispatches on the type
(``visit_<stage>``), the explainer renders the same list, and the applied plan is stored verbatim as audit evidence.
Everything the evaluator needs to know is data on the stage -- which check, which gate, which artifact is switched
and in which direction, how each kind is verified, whether evidence is reused -- so nothing recovers meaning from a
stage's ``name`` (the name is only the label recorded in ``Deployment.stages`` for humans and timings).
"""

from __future__ import annotations

from enum import Enum
from typing import Annotated, Literal

from pydantic import Field

from northstar_release.model import VERIFY_STAGE, Artifact, ArtifactKind, EvidenceRef, GateResult, Record, ReleaseAction

RECORD_STAGE = "record"


class StageKind(str, Enum):
    CHECK = "check"  # policy checks: previous env succeeded, approvals, freeze windows, known-good
    GATE = "gate"  # automated gates before entry
    DEPLOY = "deploy"  # one artifact switched through its adapter
    VERIFY = "verify"  # post-switch verification
    RECORD = "record"  # live pointers, known-good, evidence


class CheckName(str, Enum):
    PREVIOUS_ENV = "check:previous_env"
    APPROVALS = "check:approvals"
    FREEZE_WINDOW = "check:freeze_window"
    KNOWN_GOOD = "check:known_good"
    ERROR_BUDGET = "check:error_budget"  # issue 12: health.budget_block (northstar_release/health_budget.py)


class SwitchMode(str, Enum):
    """Which adapter switch a DEPLOY stage performs: forward to a new artifact, or back to a known-good one."""

    FORWARD = "forward"
    ROLLBACK = "rollback"


class VerifyMode(str, Enum):
    """How a kind is verified after the switch.

    FULL runs the kind's component verification (DagBag, spark-submit, SQLMesh audits, policy check); INTEGRITY
    re-hashes the live bytes against their digest -- used where a full verification of the same digest already passed
    (a known-good rollback target in this env, or an environment-independent verification in the previous env)."""

    FULL = "full"
    INTEGRITY = "integrity"


class _Stage(Record):
    name: str
    description: str
    skip_reason: str | None = None  # set when the plan already knows the stage is a no-op


class CheckStage(_Stage):
    kind: Literal[StageKind.CHECK] = StageKind.CHECK
    check: CheckName


class GateStage(_Stage):
    kind: Literal[StageKind.GATE] = StageKind.GATE
    gate: str
    # Results of this gate that passed for the same digests in the previous env, and where they were first produced.
    # An environment-independent gate is not re-run: the evaluator records them as reused. An environment-dependent
    # gate receives them (GateContext.prior) and may reuse the parts of its verdict that do not depend on the env.
    reuse: tuple[GateResult, ...] = ()
    reused_from: EvidenceRef | None = None
    environment_dependent: bool = True


class DeployStage(_Stage):
    kind: Literal[StageKind.DEPLOY] = StageKind.DEPLOY
    artifact: Artifact
    mode: SwitchMode = SwitchMode.FORWARD


class VerifyTarget(Record):
    """One kind to verify after the switch: which of its artifacts, and how."""

    kind: ArtifactKind
    names: tuple[str, ...]
    mode: VerifyMode = VerifyMode.FULL
    reason: str = ""
    reused_from: EvidenceRef | None = None


class VerifyStage(_Stage):
    kind: Literal[StageKind.VERIFY] = StageKind.VERIFY
    targets: tuple[VerifyTarget, ...] = ()


class RecordStage(_Stage):
    kind: Literal[StageKind.RECORD] = StageKind.RECORD
    # For a rollback: mark the succeeded deployments of the release live before the switch as rolled_back.
    mark_rolled_back: bool = False


Stage = Annotated[CheckStage | GateStage | DeployStage | VerifyStage | RecordStage, Field(discriminator="kind")]


class ReleasePlan(Record):
    """The ordered stages the evaluator will run. The explainer renders it; the applied plan is the audit evidence."""

    release_id: str
    env: str
    action: ReleaseAction
    actor: str
    stages: tuple[Stage, ...]
    notes: tuple[str, ...] = ()


def deploy_stage_name(kind: str, name: str) -> str:
    """The label a DEPLOY stage is recorded under (timings in bench/ group by it; the evaluator never parses it)."""
    return f"deploy:{kind}:{name}"


__all__ = ["VERIFY_STAGE", "RECORD_STAGE", "StageKind", "CheckName", "SwitchMode", "VerifyMode", "CheckStage",
           "GateStage", "DeployStage", "VerifyTarget", "VerifyStage", "RecordStage", "Stage", "ReleasePlan",
           "deploy_stage_name"]
