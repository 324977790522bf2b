"""Warehouse adapter against the REAL ``warehouse`` component (SQLMesh over the dbt project on DuckDB).

The engine side never imports SQLMesh: these tests drive ``WarehouseAdapter`` through ``SubprocessComponentRunner``.
The entry point comes from ``NORTHSTAR_ENTRYPOINT_WAREHOUSE`` (Pants: the PEX via runtime_package_dependencies),
``dist/entrypoints/warehouse.pex`` or a local venv at /tmp/venv-wh; without any of them the tests FAIL, never skip.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import shlex
import tarfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from northstar_release.adapters.base import BuildContext, CheckRequest, CheckScope, EnvContext
from northstar_release.adapters.warehouse import ARTIFACT_NAME, MANIFEST, WarehouseAdapter, acks_of, pin_name
from northstar_release.artifact_store import LocalArtifactStore
from northstar_release.component_process import env_var_for
from northstar_release.errors import Blocked
from northstar_release.gates.base import GateContext
from northstar_release.gates.warehouse_audit import WarehouseAuditGate
from northstar_release.model import Artifact, ArtifactKind, EvidenceRef, GateOutcome, Release
from northstar_release.runner import SubprocessComponentRunner
from northstar_release.tests.adapter_calls import check, current, deploy, rollback, verify
from northstar_release.tests.helpers import REPO, git
from northstar_release.tests.pilot_dbt import copy_pilot_dbt

MART = "fct_daily_revenue"
MART_SQL = f"dbt/models/marts/{MART}.sql"
# A breaking change to the finance mart (an existing column's expression changes) that keeps its data, unit test and
# singular test valid -- so only the acknowledgement decides.
COUNT_OLD = "count(*) as order_count"
COUNT_NEW = "count(distinct o.order_id) as order_count"


def warehouse_entrypoint() -> str:
    """The real component command line. FAILS (not skips) when it is unavailable."""
    configured = os.environ.get(env_var_for("warehouse"), "").strip()
    if configured:
        argv = shlex.split(configured)
        if not os.path.isabs(argv[0]) and Path(argv[0]).exists():  # Pants: path relative to the sandbox
            argv[0] = str(Path(argv[0]).resolve())
        return shlex.join(argv)
    pex = REPO / "dist" / "entrypoints" / "warehouse.pex"
    if pex.exists():
        return str(pex)
    py = Path("/tmp/venv-wh/bin/python")
    if py.exists() and (REPO / "dbt" / "northstar_dbt" / "warehouse").exists():
        return f"env PYTHONPATH={REPO / 'dbt'}:{REPO / 'pipelines'} {py} -m northstar_dbt.warehouse"
    pytest.fail("warehouse entry point unavailable: set NORTHSTAR_ENTRYPOINT_WAREHOUSE, build it with "
                "`./pants package dbt:warehouse`, or create /tmp/venv-wh (see dbt/README.md)")


def make_dbt_repo(root: Path) -> Path:
    repo = root / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    git(repo, "config", "user.email", "alice@northstar.test")
    git(repo, "config", "user.name", "alice")
    copy_pilot_dbt(repo / "dbt")  # the adapter's mechanics on the 5-model pilot slice (see pilot_dbt.py)
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "v1")
    return repo


@dataclass
class Setup:
    root: Path
    repo: Path
    store: LocalArtifactStore
    runner: SubprocessComponentRunner
    adapter: WarehouseAdapter

    def package(self, name: str) -> Artifact:
        commit = git(self.repo, "rev-parse", "HEAD")
        work = self.root / "work" / name
        work.mkdir(parents=True)
        ctx = BuildContext(repo_root=self.repo, git_commit=commit, release_id="rel-" + commit[:12], work_dir=work)
        (path,) = self.adapter.package(ctx)
        return self.store.put(path, ArtifactKind.WAREHOUSE_PROJECT, ARTIFACT_NAME)

    def env(self, name: str) -> EnvContext:
        d = self.root / "state" / "envs" / name
        d.mkdir(parents=True, exist_ok=True)
        return EnvContext(env=name, env_dir=d, artifact_path=lambda a: self.store.path_for(a.sha256),
                          runner=self.runner)

    def commit_edit(self, rel: str, old: str, new: str, message: str) -> None:
        path = self.repo / rel
        text = path.read_text()
        assert old in text, f"fixture edit no longer applies to {rel}: {old!r}"
        path.write_text(text.replace(old, new, 1))
        git(self.repo, "commit", "-qam", message)

    def release(self, artifact: Artifact, tags: tuple[str, ...] = ()) -> Release:
        commit = git(self.repo, "rev-parse", "HEAD")
        return Release(id="rel-" + commit[:12], git_commit=commit, author="alice@northstar.test",
                       created_at=datetime(2026, 1, 1, tzinfo=UTC), artifacts=(artifact,), tags=tags)

    def tables(self, env: str) -> dict:
        tables = self.adapter.tables(self.env(env))
        assert tables, f"nothing live in {env}"
        return tables


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    root = tmp_path_factory.mktemp("wh-adapter")
    repo = make_dbt_repo(root)
    environ = {**os.environ, env_var_for("warehouse"): warehouse_entrypoint(),
               "DBT_SEND_ANONYMOUS_USAGE_STATS": "false", "DO_NOT_TRACK": "1"}
    runner = SubprocessComponentRunner(repo, environ=environ)
    yield Setup(root, repo, LocalArtifactStore(root / "state" / "artifacts"), runner, WarehouseAdapter())


def test_package_is_deterministic_reads_git_and_excludes_build_output(setup: Setup, tmp_path: Path) -> None:
    a = setup.package("det-a")
    (setup.repo / "dbt" / "models" / "marts" / f"{MART}.sql").write_text("-- uncommitted edit must not leak\n")
    (setup.repo / "dbt" / "target").mkdir(exist_ok=True)
    (setup.repo / "dbt" / "target" / "manifest.json").write_text("{}")
    (setup.repo / "dbt" / "northstar.duckdb").write_bytes(b"x")
    b = setup.package("det-b")
    git(setup.repo, "checkout", "--", ".")
    assert a.sha256 == b.sha256
    with tarfile.open(fileobj=io.BytesIO(gzip.decompress(setup.store.path_for(a.sha256).read_bytes()))) as tar:
        names = tar.getnames()
        manifest = json.load(tar.extractfile(MANIFEST))  # type: ignore[arg-type]
        members = tar.getmembers()
    assert names == sorted(names)
    assert {"dbt_project.yml", "config.py", "profiles.yml", f"models/marts/{MART}.sql",
            "tests/assert_daily_revenue_matches_payments.sql", "seeds/raw_orders.csv"} <= set(names)
    assert not [n for n in names if n.startswith(("northstar_dbt/", "target/")) or n.endswith(".duckdb")
                or n == "BUILD"]
    assert all(m.mtime == 0 and m.uid == 0 and m.mode == 0o644 for m in members)
    # Content only: the digest must not depend on the commit (issue 8), so the manifest names no commit or release.
    assert "git_commit" not in manifest and "release_id" not in manifest and manifest["files"]


def test_deploy_promote_ack_rollback_and_refusal(setup: Setup) -> None:
    ad = setup.adapter
    dev, staging, prod = setup.env("dev"), setup.env("staging"), setup.env("prod")
    v1 = setup.package("v1")
    gate = WarehouseAuditGate()

    # v1 through the gate and into dev: a real build.
    (check,) = gate.evaluate(GateContext(setup.release(v1), dev, {ArtifactKind.WAREHOUSE_PROJECT: ad}))
    assert check.outcome == GateOutcome.PASSED, check.summary
    assert check.evidence["unit_tests"]["passed"] == 1 and check.evidence["audits"]["passed"] >= 15
    started = time.monotonic()
    out = deploy(ad, v1, dev)
    dev_s = time.monotonic() - started
    assert out.changed and out.evidence["rows_recomputed"] == 111 and not out.evidence["virtual_update"]
    assert current(ad, dev) == v1.sha256
    assert (dev.env_dir / "warehouse" / "LIVE").read_text().strip() == v1.sha256
    v = verify(ad, dev, out)
    assert v.outcome == GateOutcome.PASSED, v.summary
    assert v.evidence["tables"][MART]["rows"] == 5
    assert v.evidence["pins"]["pinned"] == f"keep_{pin_name('dev', v1.sha256)}"
    again = deploy(ad, v1, dev)
    assert not again.changed and "already live" in again.message

    # Promotion: the snapshots exist, so a virtual update with 0 rows recomputed.
    promote_s = {}
    for env in (staging, prod):
        started = time.monotonic()
        out = deploy(ad, v1, env)
        promote_s[env.env] = round(time.monotonic() - started, 2)
        assert out.changed and out.evidence["virtual_update"] and out.evidence["rows_recomputed"] == 0, out.evidence
        assert verify(ad, env, out).outcome == GateOutcome.PASSED
    prod_before = setup.tables("prod")
    # A fresh adapter (no cached post-apply result) verifies through the component.
    fresh = verify(WarehouseAdapter(), prod)
    assert fresh.outcome == GateOutcome.PASSED and fresh.evidence["source"] == "verify subcommand", fresh.summary

    # v2: breaking change to the finance mart -> gate fails without ack:<model>, deploy refuses, prod unchanged.
    setup.commit_edit(MART_SQL, COUNT_OLD, COUNT_NEW, "v2: count distinct orders")
    v2 = setup.package("v2")
    (blocked,) = gate.evaluate(GateContext(setup.release(v2), dev, {ArtifactKind.WAREHOUSE_PROJECT: ad}))
    assert blocked.outcome == GateOutcome.FAILED and "acknowledgement required" in blocked.summary
    assert blocked.evidence["plan"]["categories"][MART] == "breaking"
    assert blocked.evidence["plan"]["missing_ack"] == [MART]
    with pytest.raises(Blocked, match="acknowledgement required"):
        deploy(ad, v2, dev)
    assert current(ad, dev) == v1.sha256

    release = setup.release(v2, tags=(f"ack:{MART}",))
    assert acks_of(release) == [MART]
    (acked,) = gate.evaluate(GateContext(release, dev, {ArtifactKind.WAREHOUSE_PROJECT: ad}))
    assert acked.outcome == GateOutcome.PASSED, acked.summary
    out = deploy(ad, v2, dev, acks=release.acks)
    assert out.evidence["categories"][MART] == "breaking" and out.evidence["acknowledged"] == [MART]
    assert out.evidence["rows_recomputed_by_model"] == {MART: 5} and not out.evidence["virtual_update"]
    assert verify(ad, dev, out).outcome == GateOutcome.PASSED

    # Rollback dev to v1: no rebuild, no recompute.
    started = time.monotonic()
    back = rollback(ad, dev, v1)
    rollback_s = time.monotonic() - started
    assert back.changed and back.evidence["virtual_update"] and back.evidence["rows_recomputed"] == 0, back.evidence
    assert back.evidence["from_state"] == f"keep_{pin_name('dev', v1.sha256)}", back.evidence  # no project load
    assert current(ad, dev) == v1.sha256 and verify(ad, dev, back).outcome == GateOutcome.PASSED
    assert setup.tables("prod") == prod_before

    # Snapshots gone: drop v2's pin, run the janitor with --ignore-ttl, then a rollback to v2 is refused.
    wh, state = WarehouseAdapter.warehouse_paths(dev)
    base = ["--project", str(ad.project_dir(dev, v1.sha256)), "--warehouse", str(wh), "--state", str(state)]
    assert setup.runner.run("warehouse", ["unpin", *base, "--name", pin_name("dev", v2.sha256)]).exit_code == 0
    assert setup.runner.run("warehouse", ["janitor", *base, "--ignore-ttl"]).exit_code == 0
    with pytest.raises(Blocked, match="not in the warehouse state any more"):
        rollback(ad, dev, v2)
    assert current(ad, dev) == v1.sha256 and setup.tables("prod") == prod_before
    # v1 is pinned in dev, staging and prod: still restorable after the janitor.
    assert rollback(ad, prod, v1).changed is False
    print(f"timings: dev deploy {dev_s:.2f}s, promotion {promote_s}, rollback {rollback_s:.2f}s")  # noqa: T201


def test_failing_singular_test_blocks_at_the_gate(setup: Setup) -> None:
    setup.commit_edit("dbt/tests/assert_daily_revenue_matches_payments.sql", "where mart.total <> source.total",
                      "where mart.total = source.total", "bad singular test")
    bad = setup.package("bad-singular")
    env = setup.env("dev")
    before = current(setup.adapter, env)
    result = check(setup.adapter, bad, env, acks=(MART,))
    assert result.outcome == GateOutcome.FAILED
    assert "assert_daily_revenue_matches_payments" in result.summary
    assert result.evidence["audits"]["failing"][0]["failing_rows"] == 1
    assert current(setup.adapter, env) == before


def test_promotion_and_check_from_state_need_no_project_load(setup: Setup) -> None:
    """A digest a verified env pinned: the check's plan and the switch come from SQLMesh state, so they work with the
    shared project copy's models gone; the switch recomputes nothing and skips the post-apply audits."""
    ad = setup.adapter
    v1_commit = git(setup.repo, "rev-list", "--max-parents=0", "HEAD")
    work = setup.root / "work" / "state-v1"
    work.mkdir(parents=True)
    (blob,) = ad.package(BuildContext(repo_root=setup.repo, git_commit=v1_commit, release_id="rel-v1", work_dir=work))
    v1 = setup.store.put(blob, ArtifactKind.WAREHOUSE_PROJECT, ARTIFACT_NAME)
    qa = setup.env("qa")
    # One shared, read-only copy per digest for every env; no per-env copies.
    folder = ad.ensure_extracted(v1, qa)
    assert folder == ad.project_dir(setup.env("dev"), v1.sha256)
    assert not (folder / "models" / "marts" / f"{MART}.sql").stat().st_mode & 0o222
    assert not list((setup.root / "state" / "envs").glob(f"*/warehouse/{v1.sha256}"))
    full = check(ad, v1, qa)
    assert full.outcome == GateOutcome.PASSED, full.summary

    models = folder / "models"
    folder.chmod(0o755)
    models.rename(folder / "models.hidden")  # loading the project now would fail
    try:
        ref = EvidenceRef(env="dev", deployment_id=1, audit_seq=1, audit_hash="0" * 64)
        reused = ad.check(CheckRequest(artifact=v1, env=qa, scope=CheckScope.ENVIRONMENT, prior=full, prior_ref=ref))
        assert reused.outcome == GateOutcome.PASSED, reused.summary
        assert reused.evidence["plan"]["from_state"] == f"keep_{pin_name('dev', v1.sha256)}", reused.evidence
        assert reused.evidence["reused"]["parts"] == ["unit_tests", "audits"]

        out = deploy(ad, v1, qa)
        assert out.changed and out.evidence["from_state"] == f"keep_{pin_name('dev', v1.sha256)}", out.evidence
        assert out.evidence["virtual_update"] and out.evidence["rows_recomputed"] == 0
        assert out.evidence["audits_skipped"] and "from SQLMesh state" in out.message
        assert "load_s" not in out.evidence["timings"]
        checked = verify(ad, qa, out)
        assert checked.outcome == GateOutcome.PASSED and "audits not re-run" in checked.summary, checked.summary
        assert out.evidence["pins"]["pinned"] == f"keep_{pin_name('qa', v1.sha256)}"
    finally:
        (folder / "models.hidden").rename(models)
    assert setup.tables("qa") == {k: {**v, "relation": v["relation"].replace("analytics__dev", "analytics__qa")}
                                  for k, v in setup.tables("dev").items()}


def test_missing_entry_point_is_a_usage_error(tmp_path: Path) -> None:
    from northstar_release.errors import ComponentError

    runner = SubprocessComponentRunner(tmp_path, environ={"PATH": os.environ.get("PATH", "")})
    with pytest.raises(ComponentError, match="warehouse"):
        runner.run("warehouse", ["tables"])
