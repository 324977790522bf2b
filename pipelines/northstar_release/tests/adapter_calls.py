"""Call an adapter through the request-record protocol (adapters/base.py) with the brevity the adapter tests need."""

from __future__ import annotations

from northstar_release.adapters.base import (
    ArtifactAdapter,
    CheckRequest,
    ClearRequest,
    DeployOutcome,
    EnvContext,
    SwitchRequest,
    VerifyRequest,
)
from northstar_release.model import Artifact, GateResult
from northstar_release.stages import SwitchMode, VerifyMode


def deploy(adapter: ArtifactAdapter, artifact: Artifact, env: EnvContext, acks: tuple[str, ...] = ()) -> DeployOutcome:
    return adapter.switch(SwitchRequest(artifact=artifact, env=env, mode=SwitchMode.FORWARD, acks=acks))


def rollback(adapter: ArtifactAdapter, env: EnvContext, to: Artifact) -> DeployOutcome:
    return adapter.switch(SwitchRequest(artifact=to, env=env, mode=SwitchMode.ROLLBACK))


def current(adapter: ArtifactAdapter, env: EnvContext, name: str | None = None) -> str | None:
    """The digest live for ``name``; without a name, the only live artifact's digest (None when none or several)."""
    live = adapter.current(env)
    if name is not None:
        return live.get(name)
    return next(iter(live.values())) if len(live) == 1 else None


def verify(adapter: ArtifactAdapter, env: EnvContext, *switched: DeployOutcome,
           mode: VerifyMode = VerifyMode.FULL, names: tuple[str, ...] = ()) -> GateResult:
    return adapter.verify(VerifyRequest(env=env, names=names, mode=mode, switched=switched))


def check(adapter: ArtifactAdapter, artifact: Artifact, env: EnvContext, acks: tuple[str, ...] = ()) -> GateResult:
    return adapter.check(CheckRequest(artifact=artifact, env=env, acks=acks))


def clear(adapter: ArtifactAdapter, env: EnvContext, name: str) -> DeployOutcome:
    return adapter.clear(ClearRequest(env=env, name=name))
