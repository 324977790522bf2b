"""Reality first for the DAG bundle, Spark, infra and event-schema kinds (issue 14, deliver 1), and read-only deployed
artifacts with verify-on-read (deliver 5).

Each adapter's ``current`` must report what really runs, not what its pointer claims: a deployed bundle written into
(``__pycache__``, an edited DAG), a published PEX whose bytes changed, a stack config edited by hand, a schema
registered behind the engine's back. The next switch (recovery uses a rollback-mode switch to the recorded digest)
must restore it. The DAG bundle case goes through the evaluator's ``apply`` (recovery appends ``recover.switch_back``);
the others drive the adapter directly on the real files, registry and artifact store.
"""

from __future__ import annotations

import json
import shutil
import stat
from pathlib import Path

import pytest
import yaml

from northstar_release import gitutil
from northstar_release.adapters.base import BuildContext, EnvContext
from northstar_release.adapters.dag_bundle import DagBundleAdapter
from northstar_release.adapters.event_schemas import ARTIFACT_NAME as SCHEMAS_NAME
from northstar_release.adapters.event_schemas import KIND as SCHEMAS_KIND
from northstar_release.adapters.event_schemas import EventSchemasAdapter
from northstar_release.adapters.infra_version_map import ARTIFACT_NAME as MAP_NAME
from northstar_release.adapters.infra_version_map import VERSIONS_KEY, InfraVersionMapAdapter
from northstar_release.adapters.spark_job import SparkJobAdapter
from northstar_release.artifact_store import LocalArtifactStore
from northstar_release.evaluator import apply
from northstar_release.event_schemas.registry import LocalSchemaRegistry
from northstar_release.model import ArtifactKind
from northstar_release.plan import plan_deploy
from northstar_release.recovery import Diverged
from northstar_release.state.reconcile import verify_state
from northstar_release.tests.adapter_calls import deploy, rollback
from northstar_release.tests.fixtures_engine import NOW, FakeRunner, make_engine
from northstar_release.tests.helpers import REPO, commit, git, make_repo


def _env(tmp_path: Path, store: LocalArtifactStore) -> EnvContext:
    return EnvContext(env="dev", env_dir=tmp_path / "envs" / "dev", artifact_path=lambda a: store.path_for(a.sha256),
                      runner=FakeRunner())


def test_dag_bundle_written_into_is_seen_and_restored_by_the_next_command(tmp_path: Path) -> None:
    eng = make_engine(tmp_path, make_repo(tmp_path))
    rel = eng.build()
    envs = eng.rt.environments
    assert apply(plan_deploy(rel, envs["dev"], "deploy", "ci", eng.rt.store, envs, NOW), rel, eng.rt).exit_code == 0
    sha = rel.artifacts[0].sha256
    adapter, ctx = eng.rt.adapters[ArtifactKind.DAG_BUNDLE], eng.rt.env_context("dev")
    folder = ctx.env_dir / "dag_bundles" / sha
    # Deployed read-only: files 0444, folders 0555 (root could still write; verify-on-read below catches that).
    assert stat.S_IMODE((folder / "dags" / "sales_daily.py").stat().st_mode) == 0o444
    assert stat.S_IMODE((folder / "dags").stat().st_mode) == 0o555
    assert adapter.current(ctx) == {"airflow-dags": sha}

    (folder / "dags" / "__pycache__").mkdir()
    (folder / "dags" / "__pycache__" / "sales_daily.cpython-311.pyc").write_bytes(b"\x00bytecode")
    (folder / "dags" / "sales_daily.py").write_text("# edited in place\n")
    seen = adapter.current(ctx)["airflow-dags"]
    assert seen.startswith(f"modified:{sha[:12]}") and "sales_daily.py changed" in seen, seen
    assert DagBundleAdapter().on_disk(ctx) == {"airflow-dags": sha}  # the symlink alone still names it

    before = len(eng.rt.store.audit_entries())
    res = apply(plan_deploy(rel, envs["dev"], "deploy", "ci", eng.rt.store, envs, NOW), rel, eng.rt)
    assert res.exit_code == 0
    repairs = [e.payload for e in eng.rt.store.audit_entries()[before:] if e.action == "recover.switch_back"]
    assert [(p["found_on_disk"][:9], p["restored"]) for p in repairs] == [("modified:", sha)]
    assert adapter.current(ctx) == {"airflow-dags": sha}
    assert not (folder / "dags" / "__pycache__").exists()
    assert "edited" not in (folder / "dags" / "sales_daily.py").read_text()
    assert verify_state(eng.rt.store).ok


def test_an_unrestorable_dag_bundle_is_refused_with_what_its_switch_needs(tmp_path: Path) -> None:
    """Written into AND its store blob gone: the switch back cannot re-extract it, so the next command is refused as
    diverged (exit 2, nothing done) and says what this kind's switch needs: the blob back, the folder left alone."""
    eng = make_engine(tmp_path, make_repo(tmp_path))
    rel = eng.build()
    envs = eng.rt.environments
    assert apply(plan_deploy(rel, envs["dev"], "deploy", "ci", eng.rt.store, envs, NOW), rel, eng.rt).exit_code == 0
    artifact, ctx = rel.artifacts[0], eng.rt.env_context("dev")
    folder = ctx.env_dir / "dag_bundles" / artifact.sha256
    (folder / "dags" / "sales_daily.py").write_text("# edited in place\n")
    eng.artifacts.blob_path(artifact.sha256).unlink()
    deployments = len(eng.rt.store.deployments(env="dev"))

    with pytest.raises(Diverged) as refused:
        apply(plan_deploy(rel, envs["dev"], "deploy", "ci", eng.rt.store, envs, NOW), rel, eng.rt)
    msg = refused.value.message
    assert refused.value.exit_code == 2 and "dev diverged" in msg, msg
    assert f"Resolve: put the DAG bundle blob {artifact.uri} (sha256 {artifact.sha256[:12]})" in msg, msg
    assert str(folder) in msg and str(ctx.env_dir / "dags") in msg, msg
    assert any("ArtifactNotFound" in r for r in refused.value.reasons), refused.value.reasons
    assert len(eng.rt.store.deployments(env="dev")) == deployments  # refused before it acted


def test_spark_pointer_is_live_only_while_the_published_pex_has_its_bytes(tmp_path: Path) -> None:
    store = LocalArtifactStore(tmp_path / "artifacts")
    env = _env(tmp_path, store)
    adapter = SparkJobAdapter()
    old = store.put(b"#!/bin/sh\necho old job\n", ArtifactKind.SPARK_JOB, "daily_revenue")
    new = store.put(b"#!/bin/sh\necho new job\n", ArtifactKind.SPARK_JOB, "daily_revenue")
    deploy(adapter, old, env)
    deploy(adapter, new, env)
    published = env.env_dir / "spark" / "jobs" / f"{new.sha256}.pex"
    assert stat.S_IMODE(published.stat().st_mode) == 0o555  # executable, never writable
    assert adapter.current(env) == {"daily_revenue": new.sha256}

    published.write_bytes(b"#!/bin/sh\necho patched in place\n")
    seen = adapter.current(env)["daily_revenue"]
    assert seen.startswith(f"modified:{new.sha256[:12]} (published PEX is "), seen
    assert adapter.on_disk(env) == {"daily_revenue": new.sha256}
    outcome = rollback(adapter, env, new)  # what recovery does: switch (rollback mode) to the recorded digest
    assert outcome.changed and adapter.current(env) == {"daily_revenue": new.sha256}
    published.unlink()
    assert "missing" in adapter.current(env)["daily_revenue"]
    rollback(adapter, env, new)
    assert adapter.current(env) == {"daily_revenue": new.sha256}


def _infra_repo(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    (repo / "infra").mkdir(parents=True)
    git(repo, "init", "-q", "-b", "main")
    git(repo, "config", "user.email", "alice@northstar.test")
    git(repo, "config", "user.name", "alice")
    for name in ("Pulumi.yaml", "Pulumi.dev.yaml"):
        shutil.copy(REPO / "infra" / name, repo / "infra" / name)
    commit(repo, "infra")
    return repo


def test_infra_stack_config_edited_by_hand_is_not_the_live_map(tmp_path: Path) -> None:
    repo = _infra_repo(tmp_path)
    store = LocalArtifactStore(tmp_path / "artifacts")
    env = _env(tmp_path, store)
    adapter = InfraVersionMapAdapter()
    sha = gitutil.commit_info(repo).sha
    work = tmp_path / "work"
    work.mkdir()
    ctx = BuildContext(repo_root=repo, git_commit=sha, release_id="rel-1", work_dir=work,
                       pinned={"airflow-dags": "a" * 64}, pinned_kinds={"airflow-dags": "dag_bundle"})
    (out,) = adapter.package(ctx)
    artifact = store.put(out, ArtifactKind.INFRA_VERSION_MAP, MAP_NAME)
    deploy(adapter, artifact, env)
    assert adapter.current(env) == {MAP_NAME: artifact.sha256}

    config = adapter.config_path(env)
    doc = yaml.safe_load(config.read_text())
    doc["config"][VERSIONS_KEY]["airflow-dags"] = "b" * 64  # someone points the stack at another bundle
    config.write_text(yaml.safe_dump(doc))
    seen = adapter.current(env)[MAP_NAME]
    assert seen == f"modified:{artifact.sha256[:12]} (Pulumi.dev.yaml edited)", seen
    assert adapter.on_disk(env) == {MAP_NAME: artifact.sha256}  # the digest key was left alone
    # A forward deploy of the same map is not "already live" on an edited config: it re-renders it.
    assert deploy(adapter, artifact, env).changed
    assert adapter.current(env) == {MAP_NAME: artifact.sha256}
    assert yaml.safe_load(config.read_text())["config"][VERSIONS_KEY]["airflow-dags"] == "a" * 64


def test_schema_registered_behind_the_engines_back_is_seen_and_removed(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    shutil.copytree(REPO / "pipelines/catalog/schemas", repo / "pipelines/catalog/schemas")
    commit(repo, "schemas")
    store = LocalArtifactStore(tmp_path / "artifacts")
    env = _env(tmp_path, store)
    adapter = EventSchemasAdapter()
    work = tmp_path / "work"
    work.mkdir()
    (out,) = adapter.package(BuildContext(repo, gitutil.commit_info(repo).sha, "rel-1", work))
    artifact = store.put(out, SCHEMAS_KIND, SCHEMAS_NAME)
    deploy(adapter, artifact, env)
    assert adapter.current(env) == {SCHEMAS_NAME: artifact.sha256}

    registry = LocalSchemaRegistry(env.env_dir / "event-schemas" / "registry.json")
    subject = registry.subjects()[0]
    extra = json.loads(registry.versions(subject)[-1].schema)
    extra["fields"] = [*extra["fields"], {"name": "sneaky", "type": "string", "default": ""}]
    registry.register([(subject, json.dumps(extra)), ("brand.new.topic-value", json.dumps(extra))])
    seen = adapter.current(env)[SCHEMAS_NAME]
    assert seen.startswith(f"modified:{artifact.sha256[:12]} (registry differs for ") and subject in seen, seen
    assert adapter.on_disk(env) == {SCHEMAS_NAME: artifact.sha256}

    outcome = rollback(adapter, env, artifact)  # recovery's switch back to the recorded digest
    assert outcome.changed and adapter.current(env) == {SCHEMAS_NAME: artifact.sha256}
    assert "brand.new.topic-value" not in registry.subjects()
