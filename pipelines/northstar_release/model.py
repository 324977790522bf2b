"""The release system's data model: plain frozen data, serialisable to JSON.

Why frozen pydantic models: a release plan, a deployment and an audit entry are *records*. The same value that the
evaluator applies is what `explain` prints and what the audit evidence contains, so nothing may mutate it after creation.
Every model round-trips through ``model_dump(mode="json")`` / ``model_validate``.
"""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, GetCoreSchemaHandler
from pydantic_core import core_schema

VERIFY_STAGE = "verify"  # the name under which a deployment records that its VERIFY stage passed


class Record(BaseModel):
    """Base for every record: immutable, strict about unknown keys, JSON-serialisable."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


class ArtifactKind(str):
    """The name of an artifact kind (``dag_bundle``, ``spark_job``...).

    Why an open string type and not an Enum: a kind is declared by its own package (a ``KindSpec`` in
    ``northstar_release.kinds``), so adding one must not edit a central enum. The four built-in kinds keep their
    constants here for readability; ``.value`` keeps the enum-style spelling used throughout the engine.
    """

    DAG_BUNDLE: ClassVar[ArtifactKind]
    WAREHOUSE_PROJECT: ClassVar[ArtifactKind]
    SPARK_JOB: ClassVar[ArtifactKind]
    INFRA_VERSION_MAP: ClassVar[ArtifactKind]

    @property
    def value(self) -> str:
        return str.__str__(self)

    def __repr__(self) -> str:
        return f"ArtifactKind({str.__str__(self)!r})"

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        return core_schema.no_info_after_validator_function(
            cls, core_schema.str_schema(pattern=r"^[a-z][a-z0-9_]*$"),
            serialization=core_schema.plain_serializer_function_ser_schema(str.__str__, when_used="always"))


ArtifactKind.DAG_BUNDLE = ArtifactKind("dag_bundle")
ArtifactKind.WAREHOUSE_PROJECT = ArtifactKind("warehouse_project")
ArtifactKind.SPARK_JOB = ArtifactKind("spark_job")
ArtifactKind.INFRA_VERSION_MAP = ArtifactKind("infra_version_map")


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

    @property
    def acks(self) -> tuple[str, ...]:
        """Models acknowledged by the release's ``ack:<model>`` tags (lower-case, sorted): a breaking change to a
        finance model or a forward-only change may only ship when acknowledged (./release build --ack-breaking)."""
        prefix = "ack:"
        return tuple(sorted({t[len(prefix):].strip().lower() for t in self.tags
                             if t.lower().startswith(prefix) and t[len(prefix):].strip()}))

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


DURATION_PATTERN = r"^[1-9]\d*[dhm]$"  # 2d, 12h, 90m


class HealthPolicy(Record):
    """``environments.<env>.health``: the post-deploy regression watch and the error-budget block (issue 12).

    ``watch``/``baseline``: how long after a deployment its runs are watched, and how far before it the baseline
    reaches; ``auto_rollback``: a detected regression rolls the env back to its last known-good release;
    ``budget_block``: promotions touching a DAG whose monthly error budget is exhausted are refused (rollbacks and
    hotfix releases pass); ``airflow_db``: the env's Airflow metadata DB (relative paths are under the state dir;
    default ``envs/<env>/airflow/airflow.db``)."""

    watch: str = Field(default="2d", pattern=DURATION_PATTERN)
    baseline: str = Field(default="14d", pattern=DURATION_PATTERN)
    auto_rollback: bool = False
    budget_block: bool = False
    airflow_db: str | None = None


class HotfixPolicy(Record):
    """``environments.<env>.hotfix``: the emergency-change lane (SOX practice; see northstar_release/hotfix.py).

    An emergency release needs ``approvers_required`` approvals from the ``oncall`` list (empty: anyone but the
    author) instead of the env's usual count, and a post-hoc review recorded within ``review_within``."""

    approvers_required: int = Field(default=1, ge=1)
    oncall: tuple[str, ...] = ()
    review_within: str = Field(default="24h", pattern=DURATION_PATTERN)


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
    health: HealthPolicy | None = None  # issue 12: regression watch, auto-rollback, error-budget block
    hotfix: HotfixPolicy | None = None  # issue 12: emergency-change lane


class ReleaseAction(str, Enum):
    """What a plan does to an environment. ``rollback`` is also data on the plan's stages (see stages.py)."""

    DEPLOY = "deploy"
    PROMOTE = "promote"
    ROLLBACK = "rollback"


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
    action: ReleaseAction = ReleaseAction.DEPLOY
    started_at: datetime
    finished_at: datetime | None = None
    stages: dict[str, str] = Field(default_factory=dict)
    reason: str = ""

    def persisted_id(self) -> int:
        """The row id of a deployment that has been written to the state store (``start_deployment`` sets it)."""
        if self.id is None:
            raise ValueError(f"deployment of {self.release_id} to {self.env} has not been persisted (no id)")
        return self.id

    @property
    def verified(self) -> bool:
        """True when this deployment's VERIFY stage completed (the one place that knows how that is recorded)."""
        return VERIFY_STAGE in self.stages


class GateOutcome(str, Enum):
    PASSED = "passed"
    FAILED = "failed"
    WARNED = "warned"


class EvidenceRef(Record):
    """Where reused evidence was first produced: the deployment, and the audit entry that chained its gate results."""

    env: str
    deployment_id: int
    audit_seq: int
    audit_hash: str


class GateResult(Record):
    """What one gate concluded about one target, with the evidence an auditor needs to re-check it.

    ``reused_from`` is set when the verdict was not re-computed: an environment-independent gate already passed for the
    same artifact digests in the previous environment, and this result points at that original evidence."""

    gate: str
    target: str
    outcome: GateOutcome
    summary: str = ""
    evidence: dict[str, Any] = Field(default_factory=dict)
    reused_from: EvidenceRef | None = None

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
