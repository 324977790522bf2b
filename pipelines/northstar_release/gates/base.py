"""The gate protocol: a named, automated check run before a release may enter an environment.

Why gates only *delegate*: what "integrity" means is artifact-specific knowledge that lives in the adapter (and behind it
in a component entry point). A gate decides which artifacts of a release it looks at and turns the adapter's verdict into
GateResults that are stored as audit evidence.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from northstar_release.adapters.base import ArtifactAdapter, EnvContext
from northstar_release.model import ArtifactKind, GateResult, Release


@dataclass(frozen=True)
class GateContext:
    release: Release
    env: EnvContext
    adapters: Mapping[ArtifactKind, ArtifactAdapter]


class Gate(Protocol):
    name: str
    description: str

    def evaluate(self, ctx: GateContext) -> list[GateResult]:
        """Return one result per target examined; any FAILED result blocks the deployment."""
        ...
