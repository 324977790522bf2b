"""``KindSpec``: everything the engine needs to know about one artifact kind, in one record.

Why: build (packaging order), ``./release plan`` (source roots, gates), the component runner (which Pants target
packages an entry point), the evaluator (how to verify after a rollback, whether a verification depends on the env),
the CLI, the demo and bench all derive from these records instead of keeping their own lists keyed by strings.
Adding a kind is one module that declares its ``SPEC`` plus one line in ``kinds/registry.py`` (docs/release.md).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from northstar_release.adapters.base import ArtifactAdapter
from northstar_release.model import ArtifactKind
from northstar_release.stages import VerifyMode


@dataclass(frozen=True)
class KindSpec:
    kind: ArtifactKind
    title: str  # human name, e.g. "DAG bundle"
    source_roots: tuple[str, ...]  # top-level repo folders whose changes end up in this kind (./release plan)
    entry_point: str  # component entry point the adapter runs (runner.py resolves it)
    entry_point_target: str  # the Pants target that packages that entry point
    adapter: Callable[[], ArtifactAdapter]
    gates: tuple[str, ...] = ()  # gates (gates/) that check this kind before it enters an env
    # How a rollback to a known-good artifact is verified: INTEGRITY when the full verification is slow and already
    # passed for that digest in this very env (ADR 0004); FULL otherwise.
    rollback_verify: VerifyMode = VerifyMode.FULL
    # False when the kind's full verification depends only on the artifact's bytes (not on the env it runs in): a
    # promotion of the same digest then checks integrity and points at the previous env's full verification.
    verify_env_dependent: bool = True
    change_note: str = ""  # a risk note ./release plan prints when this kind changes
    # The entry point's subcommand worth starting early when a deployment will switch this kind (its process imports
    # a heavy engine before its arguments arrive; northstar_release.warm_start), or None.
    warm_start: str | None = None

    @property
    def label(self) -> str:
        """What ``./release plan`` lists as checking this kind (its gates, or its post-switch verification)."""
        return ", ".join(self.gates) or f"{self.kind.value}.verify (after the switch)"
