"""The protocol every artifact kind implements: frozen request records in, typed results out.

Why requests and not loose arguments: everything an adapter may use is in the request (the release id, its
acknowledgements, the env, the artifact, the switch direction, the outcomes of this run's switches), so adapters keep
no per-instance state between calls, write no side files to pass data from one verb to the next, and the evaluator
reaches every verb through this protocol -- never through ``getattr``. ``current`` answers for every artifact of the
kind that is live (name -> digest), so several artifacts of one kind (Spark jobs) are described exactly.
Adapters never import heavy engines (Airflow, SQLMesh, Spark, Pulumi); they call component entry points through
``ComponentRunner`` and read the answer as the typed record the shared contract declares (``northstar_contracts``,
parsed by ``runner.call`` into a :class:`Reported`), never as a loose dict.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any, Generic, Protocol, TypeVar

from northstar_contracts.base import ErrorRecord, Record
from northstar_release.fsutil import sha256_file
from northstar_release.model import Artifact, ArtifactKind, EvidenceRef, GateOutcome, GateResult
from northstar_release.stages import SwitchMode, VerifyMode


@dataclass(frozen=True)
class ComponentResult:
    """What a component entry point returned: its exit code and the single JSON object it printed."""

    exit_code: int
    payload: dict[str, Any]
    stderr_tail: str = ""


R = TypeVar("R", bound=Record)


@dataclass(frozen=True)
class Reported(Generic[R]):
    """A component entry point's answer, typed: the result record its contract declares, or the ``ErrorRecord`` it
    printed instead (an operation it refused or an internal error, exit 1). Built by ``runner.call``."""

    entry_point: str
    subcommand: str | None
    exit_code: int
    record: R | ErrorRecord
    stderr_tail: str = ""

    @property
    def result(self) -> R | None:
        """The declared record, or None when the entry point printed an ErrorRecord."""
        return None if isinstance(self.record, ErrorRecord) else self.record

    @property
    def error(self) -> str | None:
        """The ErrorRecord's message, when the entry point printed one."""
        return self.record.error if isinstance(self.record, ErrorRecord) else None


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
    artifact_path: Callable[[Artifact], Path]  # the verified blob of an artifact in the content-addressed store
    runner: ComponentRunner


@dataclass(frozen=True)
class DeployOutcome:
    changed: bool  # False when the environment already had this digest (idempotent no-op)
    message: str
    evidence: dict[str, Any] = field(default_factory=dict)
    # A kind whose switch ran its own post-switch verification in the same component process (the warehouse: plan,
    # apply and audits in one SQLMesh load) returns that result (its contract record) here; ``verify`` receives it
    # back in its request.
    verified: Record | None = None
    name: str = ""
    sha256: str = ""


class CheckScope(str, Enum):
    ALL = "all"  # everything the kind checks before entry
    ENVIRONMENT = "environment"  # only what depends on the env; the artifact-only parts passed before (``prior``)


@dataclass(frozen=True)
class CheckRequest:
    """Pre-deploy check of one artifact against one env; nothing in the env may change."""

    artifact: Artifact
    env: EnvContext
    release_id: str = ""
    acks: tuple[str, ...] = ()  # models the release acknowledges (warehouse: breaking finance / forward-only)
    scope: CheckScope = CheckScope.ALL
    prior: GateResult | None = None  # with scope ENVIRONMENT: the earlier passed result whose env-free parts hold
    prior_ref: EvidenceRef | None = None


@dataclass(frozen=True)
class SwitchRequest:
    """Make ``artifact`` live in the env atomically (a no-op when it already is)."""

    artifact: Artifact
    env: EnvContext
    mode: SwitchMode = SwitchMode.FORWARD  # ROLLBACK: a known-good artifact; never rebuild or recompute
    release_id: str = ""
    acks: tuple[str, ...] = ()


@dataclass(frozen=True)
class ClearRequest:
    """Undo a first-ever switch of artifact ``name``: nothing was live before, so nothing of it stays live."""

    env: EnvContext
    name: str


@dataclass(frozen=True)
class VerifyRequest:
    """Verify what is live: the artifacts ``names`` (empty: every live artifact of the kind) in ``mode``."""

    env: EnvContext
    names: tuple[str, ...] = ()
    mode: VerifyMode = VerifyMode.FULL
    switched: tuple[DeployOutcome, ...] = ()  # this run's switch outcomes of the kind


class ArtifactAdapter(Protocol):
    kind: ArtifactKind

    def package(self, ctx: BuildContext) -> list[Path]:
        """Write this kind's artifact file(s) deterministically into ctx.work_dir; same content -> same bytes."""
        ...

    def check(self, req: CheckRequest) -> GateResult:
        """Pre-deploy integrity check of the artifact itself (nothing in the env changes)."""
        ...

    def current(self, env: EnvContext) -> dict[str, str]:
        """Artifact name -> sha256 of every artifact of this kind live in the env ({} when none)."""
        ...

    def on_disk(self, env: EnvContext) -> dict[str, str]:
        """Artifact name -> sha256 the kind's local pointer names (symlink, pointer file, ``LIVE``), read without a
        component call: what the engine last switched the env to. For a kind whose pointer IS what runs it equals
        ``current``; otherwise ``current`` is the (dearer) answer of what really runs."""
        ...

    def restore_hint(self, env: EnvContext, artifact: Artifact) -> str:
        """How an operator makes ``artifact`` live again by hand when switching back to it failed (recovery's
        refusal names it): short, and true for what this kind's switch needs."""
        ...

    def switch(self, req: SwitchRequest) -> DeployOutcome:
        """Make ``req.artifact`` live (forward or rollback) atomically; a no-op when it already is."""
        ...

    def clear(self, req: ClearRequest) -> DeployOutcome:
        """Remove artifact ``req.name`` from the env (its first-ever deployment failed verification)."""
        ...

    def verify(self, req: VerifyRequest) -> GateResult:
        """Post-switch verification of what is live: FULL (component verification) or INTEGRITY (bytes vs digest)."""
        ...


def outcome_for(req: VerifyRequest, sha256: str) -> DeployOutcome | None:
    """This run's switch outcome that made ``sha256`` live, if any."""
    for outcome in req.switched:
        if outcome.sha256 == sha256:
            return outcome
    return None


def manifest_integrity(folder: Path, manifest: str, *, gate: str, target: str, what: str) -> GateResult:
    """Every file ``folder/manifest`` lists is present with the listed sha256: the integrity check kinds use instead
    of a full re-verification (rollback, promotion of an already verified digest). ``what`` names the files in the
    summary ("live DAG", "live project")."""
    problems: list[str] = []
    try:
        files: dict[str, str] = json.loads((folder / manifest).read_text())["files"]
    except (OSError, ValueError, KeyError) as exc:
        files, problems = {}, [f"unreadable {manifest}: {exc}"]
    for rel, digest in sorted(files.items()):
        path = folder / rel
        actual = sha256_file(path) if path.is_file() else None
        if actual != digest:
            problems.append(f"{rel}: {'missing' if actual is None else 'sha256 ' + actual[:12]}, manifest {digest[:12]}")
    return GateResult(gate=gate, target=target, outcome=GateOutcome.FAILED if problems else GateOutcome.PASSED,
                      summary="; ".join(problems[:5]) or f"{len(files)} {what} file(s) match the manifest "
                                                         "(integrity check)",
                      evidence={"mode": "integrity", "files_checked": len(files), "problems": problems})
