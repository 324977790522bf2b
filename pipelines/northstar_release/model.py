"""The release system's data model: plain frozen data, serialisable to JSON.

Why frozen pydantic models: a release plan, a deployment and an audit entry are *records*. The same value that the
evaluator applies is what `explain` prints and what the audit evidence contains, so nothing may mutate it after creation.
Every model round-trips through ``model_dump(mode="json")`` / ``model_validate``.
"""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class Record(BaseModel):
    """Base for every record: immutable, strict about unknown keys, JSON-serialisable."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


class ArtifactKind(str, Enum):
    """The four artifact kinds a release carries; one adapter module per kind."""

    DAG_BUNDLE = "dag_bundle"
    WAREHOUSE_PROJECT = "warehouse_project"
    SPARK_JOB = "spark_job"
    INFRA_VERSION_MAP = "infra_version_map"


class Artifact(Record):
    """A content-addressed, write-once build output. ``sha256`` is its identity; ``uri`` says where the store keeps it."""

    kind: ArtifactKind
    name: str
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    size: int = Field(ge=0)
    uri: str
    source_targets: tuple[str, ...] = ()


class Release(Record):
    """One build of one commit. Its id is derived from the commit, so building the same commit twice is the same release."""

    id: str
    git_commit: str
    author: str
    created_at: datetime
    artifacts: tuple[Artifact, ...]
    change_summary: str = ""
    tags: tuple[str, ...] = ()
    # Authors and committers (lower-cased e-mails) of the commits this release ships since the commit live in prod.
    # Separation of duties: none of them may approve it, not only the author of HEAD.
    contributors: tuple[str, ...] = ()

    def artifact(self, kind: ArtifactKind, name: str | None = None) -> Artifact | None:
        for artifact in self.artifacts:
            if artifact.kind == kind and (name is None or artifact.name == name):
                return artifact
        return None


class PromotionMode(str, Enum):
    AUTOMATIC = "automatic"
    APPROVAL = "approval"


class FreezeWindow(Record):
    """A daily UTC window during which nothing may be deployed into an environment (e.g. the 01:00-03:00 batch window)."""

    start: str = Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    end: str = Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    reason: str = ""


class Environment(Record):
    """One environment as declared in pipelines/environments.yaml."""

    name: str
    order: int
    gates: tuple[str, ...] = ()
    promotion: PromotionMode = PromotionMode.AUTOMATIC
    approvers_required: int = Field(default=0, ge=0)
    finance_approvers_required: int = Field(default=0, ge=0)
    freeze_windows: tuple[FreezeWindow, ...] = ()
    backend: str = "local"
    previous: str | None = None
    # Approvals and deployments into this env must come from a CI-verified identity (OIDC token), not --as.
    require_verified_identity: bool = False


class DeploymentStatus(str, Enum):
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    BLOCKED = "blocked"
    ROLLED_BACK = "rolled_back"


class Deployment(Record):
    """A release in an environment. ``stages`` maps stage name -> ISO timestamp of completion."""

    id: int | None = None
    release_id: str
    env: str
    status: DeploymentStatus
    actor: str
    action: str = "deploy"  # deploy | promote | rollback
    started_at: datetime
    finished_at: datetime | None = None
    stages: dict[str, str] = Field(default_factory=dict)
    reason: str = ""

    def persisted_id(self) -> int:
        """The row id of a deployment that has been written to the state store (``start_deployment`` sets it)."""
        if self.id is None:
            raise ValueError(f"deployment of {self.release_id} to {self.env} has not been persisted (no id)")
        return self.id


class GateOutcome(str, Enum):
    PASSED = "passed"
    FAILED = "failed"
    WARNED = "warned"


class GateResult(Record):
    """What one gate concluded about one target, with the evidence an auditor needs to re-check it."""

    gate: str
    target: str
    outcome: GateOutcome
    summary: str = ""
    evidence: dict[str, Any] = Field(default_factory=dict)

    @property
    def blocking(self) -> bool:
        return self.outcome == GateOutcome.FAILED


class Approval(Record):
    release_id: str
    env: str
    approver: str
    at: datetime
    comment: str = ""


class AuditEntry(Record):
    """One append-only audit record; ``hash`` = sha256 over the canonical JSON of every other field incl. ``prev_hash``."""

    seq: int
    at: datetime
    actor: str
    action: str
    release_id: str | None = None
    env: str | None = None
    payload: dict[str, Any] = Field(default_factory=dict)
    prev_hash: str
    hash: str


class StageKind(str, Enum):
    CHECK = "check"  # policy checks: previous env succeeded, approvals, freeze windows
    GATE = "gate"  # automated gates before entry
    DEPLOY = "deploy"  # one artifact through its adapter
    VERIFY = "verify"  # post-deploy verification
    RECORD = "record"  # mark known-good / write evidence


class Stage(Record):
    name: str
    kind: StageKind
    description: str
    artifact: Artifact | None = None
    skip_reason: str | None = None  # set when the plan already knows the stage is a no-op (e.g. digest already deployed)


class ReleasePlan(Record):
    """The ordered stages the evaluator will run. ``explain`` renders it; the applied plan is the audit evidence."""

    release_id: str
    env: str
    action: str  # deploy | promote | rollback
    actor: str
    stages: tuple[Stage, ...]
    notes: tuple[str, ...] = ()
