"""Adding an artifact kind is one module plus one registry line (docs/release.md, "Adding an artifact kind").

This test registers a throw-away kind -- event schemas, JSON files under ``schemas/`` switched by a pointer file -- in
a registry of its own and takes it through build, ``./release plan``'s change mapping, deploy with verification, and
a content-only digest across commits. No engine module is edited to do so.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from northstar_release import gitutil
from northstar_release.adapters.base import (
    BuildContext,
    CheckRequest,
    ClearRequest,
    DeployOutcome,
    EnvContext,
    SwitchRequest,
    VerifyRequest,
)
from northstar_release.artifact_store import LocalArtifactStore
from northstar_release.build import build
from northstar_release.changes import plan_changes
from northstar_release.evaluator import apply
from northstar_release.kinds import KindSpec
from northstar_release.kinds.registry import KINDS
from northstar_release.model import Artifact, ArtifactKind, GateOutcome, GateResult
from northstar_release.plan import plan_deploy
from northstar_release.recovery import Runtime
from northstar_release.stages import VerifyMode
from northstar_release.tests.adapter_calls import current
from northstar_release.tests.fixtures_engine import NOW, Engine, make_engine
from northstar_release.tests.helpers import commit, make_repo

EVENT_SCHEMA = ArtifactKind("event_schema")
NAME = "event-schemas"


class EventSchemaAdapter:
    """Throw-away kind: every ``schemas/*.json`` at the commit, one JSON document; live = a pointer file."""

    kind = EVENT_SCHEMA

    def package(self, ctx: BuildContext) -> list[Path]:
        files = {p: json.loads(gitutil.read_blob(ctx.repo_root, oid))
                 for p, oid in gitutil.list_tree(ctx.repo_root, ctx.git_commit, "schemas") if p.endswith(".json")}
        if not files:
            return []
        out = ctx.work_dir / f"{NAME}.json"
        out.write_text(json.dumps(files, sort_keys=True))
        return [out]

    def check(self, req: CheckRequest) -> GateResult:
        return GateResult(gate="event_schema.check", target=req.artifact.name, outcome=GateOutcome.PASSED)

    def current(self, env: EnvContext) -> dict[str, str]:
        pointer = env.env_dir / "schemas.live"
        return {NAME: pointer.read_text().strip()} if pointer.exists() else {}

    def on_disk(self, env: EnvContext) -> dict[str, str]:
        return self.current(env)  # the pointer file is what runs

    def restore_hint(self, env: EnvContext, artifact: Artifact) -> str:
        return f"write {artifact.sha256} into {env.env_dir / 'schemas.live'}"

    def switch(self, req: SwitchRequest) -> DeployOutcome:
        changed = self.current(req.env).get(NAME) != req.artifact.sha256
        (req.env.env_dir / "schemas.live").write_text(req.artifact.sha256)
        return DeployOutcome(changed=changed, message=f"schemas -> {req.artifact.sha256[:12]}", name=NAME,
                             sha256=req.artifact.sha256)

    def clear(self, req: ClearRequest) -> DeployOutcome:
        (req.env.env_dir / "schemas.live").unlink(missing_ok=True)
        return DeployOutcome(changed=True, message="cleared", name=NAME)

    def verify(self, req: VerifyRequest) -> GateResult:
        sha = self.current(req.env).get(NAME, "")
        ok = bool(sha)
        return GateResult(gate="event_schema.verify", target=f"{req.env.env}:{NAME}",
                          outcome=GateOutcome.PASSED if ok else GateOutcome.FAILED, summary=f"live {sha[:12]}",
                          evidence={"mode": req.mode.value})


SPEC = KindSpec(kind=EVENT_SCHEMA, title="event schemas", source_roots=("schemas",), entry_point="schema_check",
                entry_point_target="schemas:schema_check", adapter=EventSchemaAdapter,
                rollback_verify=VerifyMode.INTEGRITY, verify_env_dependent=False)
REGISTRY = KINDS.with_kind(SPEC)  # the "one registry line"


@pytest.fixture
def eng(tmp_path: Path) -> Engine:
    repo = make_repo(tmp_path)
    (repo / "schemas").mkdir()
    (repo / "schemas" / "orders.json").write_text('{"type": "record", "name": "Order", "fields": []}')
    commit(repo, "add the orders event schema")
    return make_engine(tmp_path, repo)


def runtime_with_kind(eng: Engine) -> Runtime:
    adapters = {**eng.rt.adapters, EVENT_SCHEMA: EventSchemaAdapter()}
    return Runtime(store=eng.rt.store, environments=eng.rt.environments, adapters=adapters,
                   env_context=eng.rt.env_context, now=eng.rt.now, progress=eng.rt.progress, kinds=REGISTRY,
                   repo=eng.rt.repo)


def built(eng: Engine, rt: Runtime) -> list[Artifact]:
    store = LocalArtifactStore(eng.artifacts.root, kinds=REGISTRY.kinds())  # the same blobs, this registry's kinds
    return list(build(eng.repo, rt.store, store, rt.adapters, "ci", kinds=REGISTRY).release.artifacts)


def test_a_registered_kind_is_built_planned_deployed_and_verified(eng: Engine) -> None:
    rt = runtime_with_kind(eng)
    artifacts = built(eng, rt)
    assert [a.kind for a in artifacts] == [ArtifactKind.DAG_BUNDLE, EVENT_SCHEMA]  # registry order: appended last
    release = rt.store.get_release("rel-" + gitutil.commit_info(eng.repo).sha[:12])
    assert release is not None
    envs = rt.environments
    plan = plan_deploy(release, envs["dev"], "deploy", "ci", rt.store, envs, NOW, kinds=REGISTRY)
    result = apply(plan, release, rt)
    assert result.status == "succeeded", result.reasons
    schema = next(a for a in artifacts if a.kind == EVENT_SCHEMA)
    assert current(rt.adapters[EVENT_SCHEMA], rt.env_context("dev")) == schema.sha256
    assert rt.store.live("dev")[("event_schema", NAME)][0] == schema.sha256
    assert "event_schema.verify" in [g.gate for g in rt.store.gate_results(result.deployment_id or 0)]

    cp = plan_changes(["schemas/orders.json", "airflow/dags/x.py"], [], "HEAD~1", kinds=REGISTRY)
    assert [u.kind for u in cp.units] == [ArtifactKind.DAG_BUNDLE, EVENT_SCHEMA]
    assert cp.units[1].gates == ["event_schema.verify (after the switch)"] and cp.unmapped == []


def test_a_kind_digest_depends_on_content_only(eng: Engine) -> None:
    rt = runtime_with_kind(eng)
    first = {a.kind: a.sha256 for a in built(eng, rt)}
    (eng.repo / "airflow" / "dags" / "sales_daily.py").write_text("# a DAG-only change\n")
    commit(eng.repo, "DAG-only change")
    second = {a.kind: a.sha256 for a in built(eng, rt)}
    assert second[EVENT_SCHEMA] == first[EVENT_SCHEMA]  # unchanged content, new commit: same digest
    assert second[ArtifactKind.DAG_BUNDLE] != first[ArtifactKind.DAG_BUNDLE]


def test_registering_a_kind_twice_is_refused() -> None:
    with pytest.raises(ValueError, match="registered twice: event_schema"):
        REGISTRY.with_kind(SPEC)
