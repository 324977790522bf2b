"""Crash recovery under the environment lock: abandoned deployments, and artifacts switched but never recorded.

Why a module of its own: both the evaluator (before applying) and the CLI (``status`` shows what is on disk) need the
same view of "recorded vs on disk", and recovery is a separate job from applying a plan.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from northstar_release.adapters.base import ArtifactAdapter, EnvContext, SwitchRequest
from northstar_release.artifact_store import ArtifactStoreError
from northstar_release.errors import ReleaseError
from northstar_release.kinds.registry import KINDS, KindRegistry
from northstar_release.model import Artifact, ArtifactKind, DeploymentStatus, Environment
from northstar_release.stages import SwitchMode
from northstar_release.state.base import StateError, StateStore


@dataclass
class Runtime:
    """Everything the evaluator touches, injected so tests can substitute any part."""

    store: StateStore
    environments: Mapping[str, Environment]
    adapters: Mapping[ArtifactKind, ArtifactAdapter]
    env_context: Callable[[str], EnvContext]
    now: Callable[[], datetime]
    progress: Callable[[str], None] = lambda msg: None
    # Real time for records (deployment and stage timestamps). ``now`` is the *policy* clock (NORTHSTAR_NOW may pin it
    # for drills); records must say when things really happened, or durations and evidence would be fiction.
    wall: Callable[[], datetime] = lambda: datetime.now(UTC)
    # Cumulative seconds spent in component entry points (subprocesses); lets callers report engine-only time.
    component_seconds: Callable[[], float] = lambda: 0.0
    kinds: KindRegistry = KINDS
    # The git repository the release was built from (gates that read the release's commit: tests, freshness).
    repo: Path | None = None
    # Start an entry point's subcommand before its arguments are known / dismiss what was not used (warm_start.py).
    prestart: Callable[[str, str, int], None] = lambda entry_point, subcommand, uses: None
    dismiss_prestarted: Callable[[], None] = lambda: None
    # Kill the component processes calls are waiting on (an evaluation that ends abnormally; runner.stop_running).
    stop_components: Callable[[], None] = lambda: None


def actual_live(rt: Runtime, env: str, *, actual: bool = False) -> dict[tuple[str, str], str | None]:
    """(kind, name) -> digest on disk for every artifact recorded live in ``env`` (None: nothing on disk).

    ``actual=True`` asks each adapter what the environment really runs (``current``: for the warehouse, the SQLMesh
    environment's snapshot set, one component call); otherwise each adapter answers from its ``on_disk`` view (its
    local pointer). Recovery asks for the actual view; after it, on disk = actual = recorded."""
    ctx = rt.env_context(env)
    on_disk: dict[ArtifactKind, dict[str, str]] = {}
    out: dict[tuple[str, str], str | None] = {}
    for (kind_value, name) in rt.store.live(env):
        kind = ArtifactKind(kind_value)
        adapter = rt.adapters.get(kind)
        if adapter is None:
            continue
        if kind not in on_disk:
            on_disk[kind] = adapter.current(ctx) if actual else pointers(adapter, ctx)
        out[(kind_value, name)] = on_disk[kind].get(name)
    return out


def pointers(adapter: ArtifactAdapter, ctx: EnvContext) -> dict[str, str]:
    """Name -> digest the adapter's local pointer names (``on_disk``, no component call). Valid as "what runs" once
    recovery has reconciled the env under its lock."""
    return adapter.on_disk(ctx)


class Diverged(ReleaseError):
    """The environment runs something other than the recorded release and the recorded one cannot be restored:
    the command is refused before it acts (exit 2), and so is every later one until actual = recorded."""

    exit_code = 2


def find_artifact(store: StateStore, kind: str, name: str, sha256: str) -> Artifact | None:
    """The stored Artifact record for a digest (needed to switch back to whatever was live before)."""
    for release in store.list_releases():
        for artifact in release.artifacts:
            if artifact.kind.value == kind and artifact.name == name and artifact.sha256 == sha256:
                return artifact
    return None


def recover_abandoned(rt: Runtime, env: str, actor: str) -> list[int]:
    """Mark deployments left ``running`` by a dead process as failed. Call only while holding ``env``'s lock:
    holding it proves no live process is still running them."""
    recovered = []
    ctx = rt.env_context(env)
    actual = actual_live(rt, env, actual=True)  # what each env really runs (one component call per such kind)
    on_disk = {f"{k}:{n}": v for (k, n), v in actual.items()}
    recorded = {f"{k}:{n}": v[0] for (k, n), v in rt.store.live(env).items()}
    for dep in rt.store.deployments(env=env):
        if dep.status != DeploymentStatus.RUNNING or dep.id is None:
            continue
        reason = (f"abandoned: the process running this {dep.action.value} died after stages "
                  f"{list(dep.stages) or 'none'}; superseded by a later run")
        with rt.store.transaction() as tx:
            tx.update_deployment(dep.id, status=DeploymentStatus.FAILED, finished_at=rt.wall(), reason=reason)
            tx.append_audit(actor, "deploy.abandoned", dep.release_id, env,
                            {"deployment_id": dep.id, "stages_done": dep.stages, "live_on_disk": on_disk,
                             "live_recorded": recorded, "reason": reason})
        rt.progress(f"recovered deployment #{dep.id} ({dep.release_id}) left running by a dead process: marked failed")
        recovered.append(dep.id)
    _reconcile_disk_with_recorded(rt, env, actor, ctx, actual)
    return recovered


def _reconcile_disk_with_recorded(rt: Runtime, env: str, actor: str, ctx: EnvContext,
                                  on_disk_all: dict[tuple[str, str], str | None]) -> None:
    """Switch any artifact whose on-disk digest differs from the recorded (verified) live one back to the recorded one.

    Why: a process killed between an atomic switch and its RECORD stage leaves the env on an unverified artifact while
    state still names the previous release. Whatever command runs next (the same deploy, another release, a rollback)
    must start from the verified state, or "last known-good" would be computed against a release that is not live.
    ``on_disk_all`` is what the env actually runs (``actual_live(actual=True)``): a component that kept running after
    its CLI was killed can have switched the env with no pointer or record saying so. When the recorded release
    cannot be restored, :class:`Diverged` refuses the command, naming what differs and how to resolve it.
    """
    for (kind_value, name), (sha256, release_id) in rt.store.live(env).items():
        adapter = rt.adapters.get(ArtifactKind(kind_value))
        if adapter is None:
            continue
        on_disk = on_disk_all.get((kind_value, name))
        if on_disk == sha256:
            continue
        artifact = find_artifact(rt.store, kind_value, name, sha256)
        if artifact is None:
            raise StateError(f"{env}: recorded live {kind_value} '{name}' {sha256[:12]} is not in any stored release")
        try:
            outcome = adapter.switch(SwitchRequest(artifact=artifact, env=ctx, mode=SwitchMode.ROLLBACK,
                                                   release_id=release_id))
        except (ReleaseError, ArtifactStoreError, OSError, RuntimeError) as exc:  # store: the blob is gone or corrupt
            why = [exc.message, *exc.reasons] if isinstance(exc, ReleaseError) else [f"{type(exc).__name__}: {exc}"]
            raise Diverged(
                f"{env} diverged: {kind_value} '{name}' is recorded live as {sha256[:12]} ({release_id}) but the "
                f"environment runs {str(on_disk)[:40]}; the recorded release cannot be restored, so nothing was "
                f"done. Resolve: {adapter.restore_hint(ctx, artifact)}, then "
                f"re-run; every command into {env} is refused until what runs equals what is recorded",
                why) from None
        after = adapter.current(ctx).get(name)
        if after != sha256:  # the adapter "restored" but what runs still differs: never record a repair that is not
            raise Diverged(
                f"{env} diverged: {kind_value} '{name}' is recorded live as {sha256[:12]} ({release_id}) but the "
                f"environment runs {str(after)[:40]} even after switching back to the recorded release; nothing "
                f"else was done. Resolve: {adapter.restore_hint(ctx, artifact)}, then re-run; every command into "
                f"{env} is refused until what runs equals what is recorded", [outcome.message])
        with rt.store.transaction() as tx:
            tx.append_audit(actor, "recover.switch_back", release_id, env, {
                "kind": kind_value, "name": name, "found_on_disk": on_disk, "restored": sha256,
                "message": outcome.message})
        rt.progress(f"recovered {env}: {kind_value} '{name}' was {str(on_disk)[:12]} on disk, restored the recorded "
                    f"{sha256[:12]} ({release_id})")
