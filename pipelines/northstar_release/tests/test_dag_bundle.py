"""DAG bundle adapter and component runner: determinism, reading from git, atomic switch, runner errors."""

from __future__ import annotations

import gzip
import io
import json
import os
import sys
import tarfile
from pathlib import Path

import pytest

from northstar_release.adapters.base import BuildContext, EnvContext
from northstar_release.adapters.dag_bundle import DagBundleAdapter
from northstar_release.artifact_store import LocalArtifactStore
from northstar_release.errors import ComponentError
from northstar_release.model import ArtifactKind
from northstar_release.runner import SubprocessComponentRunner
from northstar_release.tests.adapter_calls import check, current, deploy, rollback
from northstar_release.tests.fixtures_engine import FakeRunner
from northstar_release.tests.helpers import GOOD_DAG, REPO, airflow_entrypoint, git, make_repo


def package(repo: Path, work: Path) -> Path:
    work.mkdir(parents=True)
    commit = git(repo, "rev-parse", "HEAD")
    ctx = BuildContext(repo_root=repo, git_commit=commit, release_id="rel-" + commit[:12], work_dir=work)
    return DagBundleAdapter().package(ctx)[0]


def test_same_commit_same_bytes_and_working_tree_ignored(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    a = package(repo, tmp_path / "a")
    (repo / "airflow" / "dags" / "sales_daily.py").write_text("# uncommitted edit must not leak\n")
    (repo / "airflow" / "dags" / "untracked.py").write_text("# untracked\n")
    os.utime(repo / "legacy" / "legacy_dags" / "nightly.py", (1, 1))
    b = package(repo, tmp_path / "b")
    assert a.read_bytes() == b.read_bytes()
    raw = gzip.decompress(a.read_bytes())
    with tarfile.open(fileobj=io.BytesIO(raw)) as tar:
        members = tar.getmembers()
        names = [m.name for m in members]
        assert names == sorted(names) == ["MANIFEST.json", "dags/sales_daily.py", "legacy/nightly.py",
                                          "legacy_exemptions.yaml"]
        assert all(m.mtime == 0 and m.uid == 0 and m.gid == 0 and m.uname == "" and m.mode == 0o644 for m in members)
        manifest_file = tar.extractfile("MANIFEST.json")
        assert manifest_file is not None
        manifest = json.load(manifest_file)
    assert manifest["pass_through"] == ["legacy/"] and set(manifest["files"]) == {
        "dags/sales_daily.py", "legacy/nightly.py", "legacy_exemptions.yaml"}
    assert a.read_bytes()[4:8] == b"\x00\x00\x00\x00"  # gzip mtime 0


def test_deploy_is_atomic_symlink_switch_and_idempotent(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    store = LocalArtifactStore(tmp_path / "artifacts")
    art1 = store.put(package(repo, tmp_path / "w1"), ArtifactKind.DAG_BUNDLE, "airflow-dags")
    (repo / "airflow" / "dags" / "sales_daily.py").write_text(GOOD_DAG.format(dag_id="sales_daily", version=9))
    git(repo, "commit", "-qam", "v9")
    art2 = store.put(package(repo, tmp_path / "w2"), ArtifactKind.DAG_BUNDLE, "airflow-dags")
    env_dir = tmp_path / "envs" / "dev"
    env_dir.mkdir(parents=True)
    ctx = EnvContext(env="dev", env_dir=env_dir, artifact_path=lambda a: store.path_for(a.sha256), runner=FakeRunner())
    adapter = DagBundleAdapter()
    assert current(adapter, ctx) is None
    assert deploy(adapter, art1, ctx).changed
    assert current(adapter, ctx) == art1.sha256
    assert (env_dir / "dags" / ".complete").exists() and (env_dir / "dags" / "dags" / "sales_daily.py").exists()
    assert not deploy(adapter, art1, ctx).changed
    assert deploy(adapter, art2, ctx).changed and current(adapter, ctx) == art2.sha256
    assert rollback(adapter, ctx, art1).changed and current(adapter, ctx) == art1.sha256
    assert not os.path.isabs(os.readlink(env_dir / "dags"))
    assert [p.name for p in env_dir.iterdir() if p.name.startswith(".")] == []  # no temp leftovers


def test_incomplete_extraction_is_redone(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    store = LocalArtifactStore(tmp_path / "artifacts")
    art = store.put(package(repo, tmp_path / "w"), ArtifactKind.DAG_BUNDLE, "airflow-dags")
    env_dir = tmp_path / "envs" / "dev"
    (env_dir / "dag_bundles" / art.sha256).mkdir(parents=True)  # crashed half-extraction: no .complete
    ctx = EnvContext(env="dev", env_dir=env_dir, artifact_path=lambda a: store.path_for(a.sha256), runner=FakeRunner())
    deploy(DagBundleAdapter(), art, ctx)
    assert (env_dir / "dags" / "dags" / "sales_daily.py").exists()


def test_check_with_real_dagbag(tmp_path: Path) -> None:
    """The real component entry point on the repo's own DAGs (airflow/dags) plus a tiny legacy DAG."""
    import shlex

    repo = make_repo(tmp_path)
    for f in (REPO / "airflow" / "dags").glob("*.py"):
        (repo / "airflow" / "dags" / f.name).write_text(f.read_text())
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "repo dags")
    store = LocalArtifactStore(tmp_path / "artifacts")
    art = store.put(package(repo, tmp_path / "w"), ArtifactKind.DAG_BUNDLE, "airflow-dags")
    runner = SubprocessComponentRunner(repo, environ={**os.environ,
                                                      "NORTHSTAR_ENTRYPOINT_DAGBAG_CHECK": airflow_entrypoint()})
    ctx = EnvContext(env="dev", env_dir=tmp_path / "env", artifact_path=lambda a: store.path_for(a.sha256),
                     runner=runner)
    result = check(DagBundleAdapter(), art, ctx)
    assert result.outcome.value == "passed", result
    assert "legacy_nightly" in result.evidence["dag_ids"] and "sales_daily" in result.evidence["dag_ids"]
    assert shlex.split(airflow_entrypoint())


def test_runner_resolution_and_errors(tmp_path: Path) -> None:
    r = SubprocessComponentRunner(tmp_path, environ={})
    with pytest.raises(ComponentError) as info:
        r.resolve("dagbag_check")
    assert "./pants package airflow:dagbag_check" in " ".join(info.value.reasons)
    pex = tmp_path / "dist" / "entrypoints" / "dagbag_check.pex"
    pex.parent.mkdir(parents=True)
    pex.write_text("")
    assert r.resolve("dagbag_check") == [str(pex)]
    r = SubprocessComponentRunner(tmp_path, environ={"NORTHSTAR_ENTRYPOINT_DAGBAG_CHECK": f"{sys.executable} -c 'print(1)'"})
    assert r.resolve("dagbag_check")[:1] == [sys.executable]
    with pytest.raises(ComponentError, match="did not print one JSON object"):
        r.run("dagbag_check", [])
    slow = SubprocessComponentRunner(tmp_path, timeout_s=0.5, environ={
        "NORTHSTAR_ENTRYPOINT_DAGBAG_CHECK": f"{sys.executable} -c 'import time,sys; sys.stderr.write(\"zzz\"); time.sleep(5)'"})
    with pytest.raises(ComponentError, match="timed out"):
        slow.run("dagbag_check", [])
    exits_2 = "import sys; print(\"{}\"); sys.stderr.write(\"bad args\"); sys.exit(2)"
    usage = SubprocessComponentRunner(tmp_path, environ={"NORTHSTAR_ENTRYPOINT_DAGBAG_CHECK": f"{sys.executable} -c '{exits_2}'"})
    with pytest.raises(ComponentError) as info:
        usage.run("dagbag_check", [])
    assert "usage error" in info.value.message and any("bad args" in x for x in info.value.reasons)
    ok = SubprocessComponentRunner(tmp_path, environ={
        "NORTHSTAR_ENTRYPOINT_DAGBAG_CHECK": f"{sys.executable} -c 'print(\"log line\"); print(\"{{\\\"dag_ids\\\": []}}\")'"})
    assert ok.run("dagbag_check", []).payload == {"dag_ids": []}


def test_engine_never_imports_airflow() -> None:
    import subprocess

    code = ("import sys, northstar_release.cli, northstar_release.evaluator, northstar_release.adapters.dag_bundle;"
            "print('airflow' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": str(REPO / "pipelines")}).stdout.strip()
    assert out == "False"
