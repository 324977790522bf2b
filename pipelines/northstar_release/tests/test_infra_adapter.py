"""Infra version map adapter and infra_policy gate against the REAL ``infra_check`` entry point (Pulumi mocks).

The entry point comes from ``NORTHSTAR_ENTRYPOINT_INFRA_CHECK`` (Pants: ``runtime_package_dependencies`` on
``infra:infra_check``) or, outside Pants, from the exported ``infra`` virtualenv with ``PYTHONPATH=infra``. If neither
exists these tests FAIL: an infra gate that was never run against the real program proves nothing.
"""

from __future__ import annotations

import glob
import json
import os
import shlex
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from northstar_release.adapters.base import BuildContext, EnvContext
from northstar_release.adapters.infra_version_map import (
    ARTIFACT_NAME,
    MAP_DIGEST_KEY,
    InfraVersionMapAdapter,
    verified_baseline,
)
from northstar_release.artifact_store import LocalArtifactStore
from northstar_release.errors import ComponentError, UsageError
from northstar_release.gates.base import GateContext
from northstar_release.gates.infra_policy import InfraPolicyGate
from northstar_release.model import Artifact, ArtifactKind, GateOutcome, Release
from northstar_release.runner import SubprocessComponentRunner
from northstar_release.stages import VerifyMode
from northstar_release.tests.adapter_calls import check, clear, current, deploy, rollback, verify
from northstar_release.tests.helpers import REPO, commit, git

VAR = "NORTHSTAR_ENTRYPOINT_INFRA_CHECK"
STACK_FILES = ("Pulumi.yaml", "Pulumi.dev.yaml", "Pulumi.staging.yaml", "Pulumi.prod.yaml")
SHA = {c: c * 64 for c in "abcdef"}
TIMINGS: dict[str, float] = {}


def infra_check_command() -> str:
    configured = os.environ.get(VAR, "").strip()
    if configured:
        first = shlex.split(configured)[0]
        if not os.path.isabs(first) and os.path.exists(first):  # Pants hands a sandbox-relative PEX path
            configured = shlex.join([os.path.abspath(first), *shlex.split(configured)[1:]])
        return configured
    pythons = sorted(glob.glob(str(REPO / "dist/export/python/virtualenvs/infra/*/bin/python")))
    if pythons and (REPO / "infra" / "northstar_infra" / "check.py").exists():
        pythonpath = shlex.quote(str(REPO / "infra") + ":" + str(REPO / "pipelines"))
        return f"env PYTHONPATH={pythonpath} {shlex.quote(pythons[0])} -m northstar_infra.check"
    pytest.fail(f"infra_check entry point unavailable: set {VAR} (e.g. dist/entrypoints/infra_check.pex from "
                "`./pants package infra:infra_check`), or `./pants export --resolve=infra`")


def real_stack_files() -> dict[str, str]:
    files = {}
    for name in STACK_FILES:
        path = REPO / "infra" / name
        if not path.exists():
            pytest.fail(f"{path} missing: the pipelines tests need a dependency on infra:stacks")
        files[name] = path.read_text()
    return files


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    (root / "infra").mkdir(parents=True)
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.email", "alice@northstar.test")
    git(root, "config", "user.name", "alice")
    for name, text in real_stack_files().items():
        (root / "infra" / name).write_text(text)
    commit(root, "infra stacks")
    return root


def package(repo: Path, work: Path, pinned: dict[str, str]) -> Path:
    work.mkdir(parents=True)
    sha = git(repo, "rev-parse", "HEAD")
    ctx = BuildContext(repo_root=repo, git_commit=sha, release_id="rel-" + sha[:12], work_dir=work, pinned=pinned)
    (out,) = InfraVersionMapAdapter().package(ctx)
    return out


def env_context(tmp_path: Path, repo: Path, store: LocalArtifactStore, env: str = "staging",
                environ: dict[str, str] | None = None) -> EnvContext:
    runner = SubprocessComponentRunner(repo, environ=environ if environ is not None else
                                       {**os.environ, VAR: infra_check_command()})
    return EnvContext(env=env, env_dir=tmp_path / "state" / "envs" / env,
                      artifact_path=lambda a: store.path_for(a.sha256), runner=runner)


def release_of(repo: Path, *artifacts: Artifact) -> Release:
    sha = git(repo, "rev-parse", "HEAD")
    return Release(id="rel-" + sha[:12], git_commit=sha, author="alice@northstar.test",
                   created_at=datetime(2025, 3, 4, tzinfo=UTC), artifacts=artifacts)


def timed(label: str, fn, *args, **kwargs):
    started = time.monotonic()
    value = fn(*args, **kwargs)
    TIMINGS[label] = round(time.monotonic() - started, 3)
    return value


# ---- package ---------------------------------------------------------------------------------------------------------
def test_package_is_deterministic_reads_the_commit_and_pins_every_other_artifact(repo: Path, tmp_path: Path) -> None:
    a = package(repo, tmp_path / "a", {"warehouse": SHA["b"], "airflow-dags": SHA["a"], ARTIFACT_NAME: SHA["f"]})
    (repo / "infra" / "Pulumi.dev.yaml").write_text("config: {uncommitted: edit}\n")  # must not leak
    (repo / "infra" / "Pulumi.qa.yaml").write_text("config: {}\n")  # untracked: must not leak
    b = package(repo, tmp_path / "b", {"airflow-dags": SHA["a"], "warehouse": SHA["b"]})
    assert a.name == "infra-version-map.json" and a.read_bytes() == b.read_bytes()
    doc = json.loads(a.read_bytes())
    sha = git(repo, "rev-parse", "HEAD")
    assert doc["release_id"] == "rel-" + sha[:12] and doc["git_commit"] == sha
    assert list(doc["artifacts"]) == ["airflow-dags", "warehouse"]  # sorted; never itself
    assert doc["artifacts"]["warehouse"]["sha256"] == SHA["b"]
    assert set(doc["infra"]["stacks"]) == {"dev", "staging", "prod"}
    assert doc["infra"]["stacks"]["dev"] == real_stack_files()["Pulumi.dev.yaml"]
    assert doc["infra"]["program_tree"] == git(repo, "rev-parse", "HEAD:infra")
    c = package(repo, tmp_path / "c", {"airflow-dags": SHA["c"], "warehouse": SHA["b"]})
    assert c.read_bytes() != a.read_bytes()  # a different digest is a different map


# ---- deploy / verify / rollback --------------------------------------------------------------------------------------
def test_deploy_verify_rollback_and_idempotency_with_the_real_entry_point(repo: Path, tmp_path: Path) -> None:
    store = LocalArtifactStore(tmp_path / "artifacts")
    adapter = InfraVersionMapAdapter()
    v1 = store.put(package(repo, tmp_path / "w1", {"airflow-dags": SHA["a"]}), ArtifactKind.INFRA_VERSION_MAP,
                   ARTIFACT_NAME)
    (repo / "infra" / "Pulumi.staging.yaml").write_text(
        real_stack_files()["Pulumi.staging.yaml"].replace("cc-4100-data", "cc-4200-platform"))
    commit(repo, "staging cost centre")
    v2 = store.put(package(repo, tmp_path / "w2", {"airflow-dags": SHA["c"], "spark-daily-revenue": SHA["d"]}),
                   ArtifactKind.INFRA_VERSION_MAP, ARTIFACT_NAME)
    env = env_context(tmp_path, repo, store, "staging")
    live = adapter.config_path(env)
    assert current(adapter, env) is None

    first = timed("deploy", deploy, adapter, v1, env)
    assert first.changed and current(adapter, env) == v1.sha256
    v1_bytes = live.read_bytes()
    config = yaml.safe_load(v1_bytes)["config"]
    assert config["northstar:artifactVersions"] == {"airflow-dags": SHA["a"]}
    assert config[MAP_DIGEST_KEY] == v1.sha256 and config["northstar:environment"] == "staging"
    assert (live.parent / "Pulumi.yaml").read_text() == real_stack_files()["Pulumi.yaml"]
    verified = timed("verify", verify, adapter, env)
    assert verified.outcome == GateOutcome.PASSED, verified.summary
    # The staging estate since 774d96b (spark merge): buckets, KMS keys, EMR Serverless, MWAA, MSK, roles, ...
    assert verified.evidence["stack"] == "staging" and len(verified.evidence["resources"]) == 28

    again = deploy(adapter, v1, env)
    assert not again.changed and "already live" in again.message and live.read_bytes() == v1_bytes

    second = deploy(adapter, v2, env)
    assert second.changed and second.evidence["from"] == v1.sha256 and current(adapter, env) == v2.sha256
    config = yaml.safe_load(live.read_text())["config"]
    assert config["northstar:artifactVersions"] == {"airflow-dags": SHA["c"], "spark-daily-revenue": SHA["d"]}
    assert config["northstar:costCenter"] == "cc-4200-platform"  # the stack config of v2's commit
    assert verify(adapter, env).outcome == GateOutcome.PASSED
    assert not list(live.parent.glob(".*.tmp"))  # no temp files left behind

    state = live.parent / "state.staging.json"
    v2_state = state.read_bytes()
    back = timed("rollback", rollback, adapter, env, v1)
    assert back.changed and current(adapter, env) == v1.sha256
    assert live.read_bytes() == v1_bytes  # the old map and the old commit's stack config, byte for byte
    # Rollback verification (the KindSpec's INTEGRITY mode): v1 passed full verification in this env, so its rendered
    # config is checked byte for byte and its recorded stack state becomes the cost baseline again -- no program run.
    known_good = timed("rollback verify", verify, adapter, env, mode=VerifyMode.INTEGRITY)
    assert known_good.outcome == GateOutcome.PASSED and "integrity check" in known_good.summary, known_good.summary
    assert state.read_bytes() == verified_baseline(live.parent, v1.sha256).read_bytes() != v2_state
    assert verify(adapter, env).outcome == GateOutcome.PASSED
    assert not rollback(adapter, env, v1).changed
    print(f"infra_version_map timings (s): {json.dumps(TIMINGS)}")


def prod_with_a_map(repo: Path, tmp_path: Path) -> tuple[InfraVersionMapAdapter, Artifact, EnvContext]:
    """An adapter, one stored version map and the prod env context over this test's artifact store."""
    store = LocalArtifactStore(tmp_path / "artifacts")
    v1 = store.put(package(repo, tmp_path / "w1", {"airflow-dags": SHA["a"]}), ArtifactKind.INFRA_VERSION_MAP,
                   ARTIFACT_NAME)
    return InfraVersionMapAdapter(), v1, env_context(tmp_path, repo, store, "prod")


def test_rollback_verify_runs_the_program_unless_the_digest_was_verified_here(repo: Path, tmp_path: Path) -> None:
    adapter, v1, env = prod_with_a_map(repo, tmp_path)
    deploy(adapter, v1, env)
    live = adapter.config_path(env)
    # Never fully verified in this env: the integrity mode falls back to the full run (Pulumi mocks).
    full = verify(adapter, env, mode=VerifyMode.INTEGRITY)
    assert full.outcome == GateOutcome.PASSED and len(full.evidence["resources"]) == 28, full.summary
    assert verified_baseline(live.parent, v1.sha256).is_file()
    # A hand-edited config no longer renders from the map: refused, whatever was verified before.
    live.write_text(live.read_text().replace("northstar:environment: prod", "northstar:environment: dev"))
    edited = verify(adapter, env, mode=VerifyMode.INTEGRITY)
    assert edited.outcome == GateOutcome.FAILED and "is not what version map" in edited.summary, edited.summary


def test_verify_fails_on_a_tampered_live_config_and_without_one(repo: Path, tmp_path: Path) -> None:
    adapter, v1, env = prod_with_a_map(repo, tmp_path)
    missing = verify(adapter, env)
    assert missing.outcome == GateOutcome.FAILED and "no stack config is live" in missing.summary
    deploy(adapter, v1, env)
    live = adapter.config_path(env)
    live.write_text(live.read_text().replace("northstar:environment: prod", "northstar:environment: dev"))
    tampered = verify(adapter, env)
    assert tampered.outcome == GateOutcome.FAILED
    assert "stack-environment" in tampered.summary
    assert clear(adapter, env, "infra-version-map").changed and current(adapter, env) is None and not live.exists()


# ---- gate ------------------------------------------------------------------------------------------------------------
def test_infra_policy_gate_passes_a_compliant_release_and_blocks_a_bad_one(repo: Path, tmp_path: Path) -> None:
    store = LocalArtifactStore(tmp_path / "artifacts")
    adapters = {ArtifactKind.INFRA_VERSION_MAP: InfraVersionMapAdapter()}
    good = store.put(package(repo, tmp_path / "w1", {"airflow-dags": SHA["a"]}), ArtifactKind.INFRA_VERSION_MAP,
                     ARTIFACT_NAME)
    env = env_context(tmp_path, repo, store, "dev")
    (result,) = InfraPolicyGate().evaluate(GateContext(release_of(repo, good), env, adapters))
    assert result.gate == "infra_policy" and result.outcome == GateOutcome.PASSED, result.summary

    # A bad stack config: the program refuses an unknown environment.
    (repo / "infra" / "Pulumi.dev.yaml").write_text(
        real_stack_files()["Pulumi.dev.yaml"].replace("northstar:environment: dev", "northstar:environment: qa"))
    commit(repo, "broken dev stack")
    bad = store.put(package(repo, tmp_path / "w2", {"airflow-dags": SHA["a"]}), ArtifactKind.INFRA_VERSION_MAP,
                    ARTIFACT_NAME)
    (result,) = InfraPolicyGate().evaluate(GateContext(release_of(repo, bad), env, adapters))
    assert result.outcome == GateOutcome.FAILED
    policies = {v["policy"] for v in result.evidence["violations"]}
    assert policies == {"stack-environment", "program-error"}, result.summary
    assert "northstar:environment must be one of" in result.summary
    assert not (env.env_dir / "infra").exists()  # a gate never touches the env

    (result,) = InfraPolicyGate().evaluate(GateContext(release_of(repo), env, adapters))
    assert result.outcome == GateOutcome.PASSED and "no infra version map" in result.summary


def test_deploy_into_an_env_without_a_stack_config_fails_clearly(repo: Path, tmp_path: Path) -> None:
    store = LocalArtifactStore(tmp_path / "artifacts")
    v1 = store.put(package(repo, tmp_path / "w1", {}), ArtifactKind.INFRA_VERSION_MAP, ARTIFACT_NAME)
    env = env_context(tmp_path, repo, store, "qa")
    with pytest.raises(UsageError, match="has no infra/Pulumi.qa.yaml"):
        deploy(InfraVersionMapAdapter(), v1, env)
    gate = check(InfraVersionMapAdapter(), v1, env)
    assert gate.outcome == GateOutcome.FAILED and "Pulumi.qa.yaml" in gate.summary


def test_missing_entry_point_is_a_component_error(repo: Path, tmp_path: Path) -> None:
    store = LocalArtifactStore(tmp_path / "artifacts")
    v1 = store.put(package(repo, tmp_path / "w1", {}), ArtifactKind.INFRA_VERSION_MAP, ARTIFACT_NAME)
    environ = {k: v for k, v in os.environ.items() if k != VAR}
    env = env_context(tmp_path, repo, store, "dev", environ=environ)
    deploy(InfraVersionMapAdapter(), v1, env)
    with pytest.raises(ComponentError, match="'infra_check' is not available"):
        verify(InfraVersionMapAdapter(), env)
