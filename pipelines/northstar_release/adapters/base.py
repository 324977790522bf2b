"""The one small protocol every artifact kind implements.

Why a protocol and contexts of plain data: the evaluator must not know how a DAG bundle differs from a warehouse
snapshot, and the ``local`` and (future) ``aws`` backends must be swappable behind the same four verbs.
Adapters never import heavy engines (Airflow, SQLMesh, Spark, Pulumi); they call component entry points through
``ComponentRunner`` which returns parsed JSON.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from northstar_release.model import Artifact, ArtifactKind, GateResult


@dataclass(frozen=True)
class ComponentResult:
    """What a component entry point returned: its exit code and the single JSON object it printed."""

    exit_code: int
    payload: dict[str, Any]
    stderr_tail: str = ""


class ComponentRunner(Protocol):
    """Runs a named component entry point (e.g. ``dagbag_check``) with arguments and returns its JSON result."""

    def run(self, entry_point: str, args: list[str], env: Mapping[str, str] | None = None) -> ComponentResult: ...


@dataclass(frozen=True)
class BuildContext:
    repo_root: Path
    git_commit: str
    release_id: str
    work_dir: Path  # scratch space for this build; artifacts are then put into the content-addressed store
    pinned: Mapping[str, str] = field(default_factory=dict)  # artifact name -> sha256 of the release's other artifacts
    pinned_kinds: Mapping[str, str] = field(default_factory=dict)  # artifact name -> kind of those artifacts


@dataclass(frozen=True)
class EnvContext:
    env: str
    env_dir: Path  # local backend: <state>/envs/<env>
    artifact_path: Any  # callable(Artifact) -> Path of the verified blob in the store
    runner: ComponentRunner


@dataclass(frozen=True)
class DeployOutcome:
    changed: bool  # False when the environment already had this digest (idempotent no-op)
    message: str
    evidence: dict[str, Any] = field(default_factory=dict)


class ArtifactAdapter(Protocol):
    kind: ArtifactKind

    def package(self, ctx: BuildContext) -> list[Path]:
        """Write this kind's artifact file(s) deterministically into ctx.work_dir; same commit -> same bytes."""
        ...

    def check(self, artifact: Artifact, env: EnvContext) -> GateResult:
        """Pre-deploy integrity check of the artifact itself (nothing in the env changes)."""
        ...

    def current(self, env: EnvContext, name: str | None = None) -> str | None:
        """sha256 of the artifact of this kind (named ``name``, for kinds with several artifacts such as Spark jobs)
        currently live in the env, or None."""
        ...

    def deploy(self, artifact: Artifact, env: EnvContext) -> DeployOutcome:
        """Make ``artifact`` live in the env atomically; a no-op when it already is."""
        ...

    def verify(self, env: EnvContext) -> GateResult:
        """Post-deploy verification of what is live in the env."""
        ...

    def rollback(self, env: EnvContext, to: Artifact) -> DeployOutcome:
        """Make ``to`` live again (same atomic switch as deploy; must not rebuild)."""
        ...
