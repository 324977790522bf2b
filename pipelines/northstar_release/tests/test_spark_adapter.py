"""Spark job adapter against the REAL job PEX and the REAL ``spark_verify`` entry point (spark-submit, local mode).

Inputs (both FAIL the tests when missing -- never skip):
* the job PEX: under Pants, ``runtime_package_dependencies=["spark:daily_revenue"]`` puts it at
  ``spark/daily_revenue.pex`` in the sandbox; outside Pants set ``NORTHSTAR_SPARK_JOB_PEX`` or run
  ``./pants package spark:daily_revenue`` (-> ``dist/spark/daily_revenue.pex``);
* the verifier: ``NORTHSTAR_ENTRYPOINT_SPARK_VERIFY`` (Pants: ``entrypoints/spark_verify.pex`` from
  ``runtime_package_dependencies=["spark:spark_verify"]``; by hand: ``./pants package spark:spark_verify``), else
  ``dist/entrypoints/spark_verify.pex``.

A second real digest for rollback: the bad release is the real PEX with its job module's output column renamed (the
schema it declares is unchanged) and a fresh pex_hash -- a production-layout PEX whose output breaks its contract.

What is NOT covered inside Pants: ``package()`` runs ``./pants package``, and Pants cannot run inside a Pants test
sandbox. ``test_package_is_deterministic_by_hand`` runs it only when ``NORTHSTAR_TEST_PANTS_PACKAGE=1`` is set (from a
checkout, outside Pants): it packages twice and compares sha256. Inside Pants only its job discovery parsing is tested.
"""

from __future__ import annotations

import hashlib
import json
import os
import shlex
import time
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from northstar_release.adapters.base import BuildContext, ComponentResult, EnvContext
from northstar_release.adapters.spark_job import SparkJobAdapter, parse_job_targets
from northstar_release.artifact_store import LocalArtifactStore
from northstar_release.environments import load_environments
from northstar_release.evaluator import Runtime, apply
from northstar_release.model import Artifact, ArtifactKind, GateOutcome, Release
from northstar_release.plan import plan_deploy
from northstar_release.runner import SubprocessComponentRunner
from northstar_release.stages import DeployStage, VerifyMode, VerifyStage
from northstar_release.state import open_store
from northstar_release.tests.adapter_calls import check, clear, current, deploy, rollback, verify
from northstar_release.tests.fixtures_engine import NOW
from northstar_release.tests.helpers import ENVIRONMENTS_YAML

REPO = Path(__file__).resolve().parents[3]
JOB = "daily_revenue"
JOB2 = "stream_order_events"  # a second real job: batches of several jobs run on one shared JVM
VERIFY_VAR = "NORTHSTAR_ENTRYPOINT_SPARK_VERIFY"


def _existing(path: str) -> Path | None:
    return Path(path).resolve() if path and Path(path).is_file() else None


def job_pex() -> Path:
    for c in (os.environ.get("NORTHSTAR_SPARK_JOB_PEX", ""), "spark/daily_revenue.pex",
              str(REPO / "dist" / "spark" / "daily_revenue.pex")):
        if found := _existing(c):
            return found
    pytest.fail("real job PEX missing: run under ./pants test (runtime_package_dependencies spark:daily_revenue), "
                "set NORTHSTAR_SPARK_JOB_PEX, or ./pants package spark:daily_revenue", pytrace=False)


def second_job_pex() -> Path:
    """A second real job PEX (a streaming job) for batches of several jobs."""
    for c in (os.environ.get("NORTHSTAR_SPARK_SECOND_JOB_PEX", ""), f"spark/{JOB2}.pex",
              str(REPO / "dist" / "spark" / f"{JOB2}.pex")):
        if found := _existing(c):
            return found
    pytest.fail(f"real job PEX missing: run under ./pants test (runtime_package_dependencies spark:{JOB2}), set "
                f"NORTHSTAR_SPARK_SECOND_JOB_PEX, or ./pants package spark:{JOB2}", pytrace=False)


def verify_command() -> str:
    configured = os.environ.get(VERIFY_VAR, "").strip()
    if configured:
        argv = shlex.split(configured)
        if len(argv) == 1 and not os.path.isabs(argv[0]) and os.path.exists(argv[0]):
            return os.path.abspath(argv[0])  # Pants hands a sandbox-relative path
        return configured
    if found := _existing(str(REPO / "dist" / "entrypoints" / "spark_verify.pex")):
        return str(found)
    pytest.fail(f"spark_verify entry point missing: set {VERIFY_VAR} (Pants: runtime_package_dependencies "
                "spark:spark_verify) or ./pants package spark:spark_verify", pytrace=False)


def drifted_pex(real: Path, out: Path) -> Path:
    """The real PEX with its output column ``revenue`` renamed ``revenue_usd`` (OUTPUT_SCHEMA unchanged)."""
    module = "northstar_spark/jobs/daily_revenue.py"
    with zipfile.ZipFile(real) as src:
        info = json.loads(src.read("PEX-INFO"))
        drifted_src = src.read(module).decode().replace('.alias("revenue")', '.alias("revenue_usd")').encode()
        # PEX caches extracted code under ~/.pex by code_hash and pex_hash (both also embedded in __main__.py):
        # new content-derived hashes everywhere, or the drifted PEX would silently run the cached original.
        swaps = {
            info[k].encode(): hashlib.sha1(info[k].encode() + drifted_src, usedforsecurity=False).hexdigest().encode()  # noqa: S324 - PEX-INFO hashes are sha1 by format
            for k in ("pex_hash", "code_hash")
        }
        shebang = real.read_bytes().split(b"\n", 1)[0] + b"\n"
        with open(out, "wb") as fh:
            fh.write(shebang)  # a PEX is its shebang line followed by the zip
            with zipfile.ZipFile(fh, "w") as dst:
                for item in src.infolist():
                    data = src.read(item.filename)
                    if item.filename == module:
                        text = data.decode()
                        assert text.count('.alias("revenue")') == 1, "the job changed; update this test's drift"
                        data = text.replace('.alias("revenue")', '.alias("revenue_usd")').encode()
                    for before, after in swaps.items():
                        data = data.replace(before, after)
                    dst.writestr(item, data)
    out.chmod(0o755)
    return out


@dataclass
class CountingRunner:
    """The real runner, recording each entry-point call: how many spark_verify processes a verb started."""

    inner: SubprocessComponentRunner
    calls: list[list[str]] = field(default_factory=list)

    def run(self, entry_point: str, args: list[str], env: Mapping[str, str] | None = None) -> ComponentResult:
        self.calls.append(list(args))
        return self.inner.run(entry_point, args, env)

    def jobs_per_call(self, since: int = 0) -> list[list[str]]:
        return [[a[i + 1] for i in range(len(a)) if a[i] == "--job"] for a in self.calls[since:]]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    tmp = tmp_path_factory.mktemp("spark-adapter")
    store = LocalArtifactStore(tmp / "artifacts")
    real = job_pex()
    good = store.put(real, ArtifactKind.SPARK_JOB, JOB, source_targets=("spark:daily_revenue",))
    bad = store.put(drifted_pex(real, tmp / "drifted.pex"), ArtifactKind.SPARK_JOB, JOB)
    other = store.put(second_job_pex(), ArtifactKind.SPARK_JOB, JOB2, source_targets=(f"spark:{JOB2}",))
    runner = CountingRunner(SubprocessComponentRunner(REPO, environ={**os.environ, VERIFY_VAR: verify_command()}))
    return {"tmp": tmp, "store": store, "good": good, "bad": bad, "other": other, "runner": runner}


def ctx_for(world: dict[str, object], env: str) -> EnvContext:
    store = world["store"]
    assert isinstance(store, LocalArtifactStore)
    env_dir = Path(str(world["tmp"])) / "envs" / env
    env_dir.mkdir(parents=True, exist_ok=True)
    return EnvContext(env=env, env_dir=env_dir, artifact_path=lambda a: store.path_for(a.sha256),
                      runner=world["runner"])  # type: ignore[arg-type]


def pointer(ctx: EnvContext) -> dict[str, str]:
    return json.loads((ctx.env_dir / "spark" / f"{JOB}.current").read_text())


def test_deploy_publishes_and_points_then_is_idempotent(world: dict[str, object]) -> None:
    ctx, good = ctx_for(world, "dev"), world["good"]
    assert isinstance(good, Artifact)
    adapter = SparkJobAdapter()
    assert current(adapter, ctx) is None
    t = time.monotonic()
    outcome = deploy(adapter, good, ctx)
    print(f"deploy: {time.monotonic() - t:.3f}s")
    assert outcome.changed and outcome.evidence["from"] is None and outcome.evidence["to"] == good.sha256
    published = ctx.env_dir / "spark" / "jobs" / f"{good.sha256}.pex"
    assert hashlib.sha256(published.read_bytes()).hexdigest() == good.sha256 and os.access(published, os.X_OK)
    assert pointer(ctx) == {"job": JOB, "sha256": good.sha256, "pex": f"jobs/{good.sha256}.pex"}
    assert current(adapter, ctx) == good.sha256 == current(adapter, ctx, JOB)
    assert not [p for p in (ctx.env_dir / "spark").rglob("*.tmp")]

    again = deploy(adapter, good, ctx)
    assert not again.changed and "already live" in again.message

    t = time.monotonic()
    result = verify(adapter, ctx)
    print(f"verify: {time.monotonic() - t:.3f}s")
    assert result.outcome == GateOutcome.PASSED, (result.summary, result.evidence)
    evidence = result.evidence["jobs"][JOB]
    assert evidence["pex_sha256"] == good.sha256 and evidence["schema_matches"] is True
    assert evidence["mode"] == "spark-submit" and evidence["rows"] == 2
    assert evidence["expected_schema"] and evidence["actual_schema"] and evidence["seconds"] > 0


def test_bad_release_fails_verify_and_rollback_restores_the_pointer(world: dict[str, object]) -> None:
    ctx, good, bad = ctx_for(world, "prod"), world["good"], world["bad"]
    assert isinstance(good, Artifact) and isinstance(bad, Artifact)
    adapter = SparkJobAdapter()
    deploy(adapter, good, ctx)

    pre = check(adapter, bad, ctx)  # pre-deploy check on the store blob: the env is untouched
    assert pre.outcome == GateOutcome.FAILED and "does not match the declared schema" in pre.summary
    assert current(adapter, ctx) == good.sha256

    assert deploy(adapter, bad, ctx).changed
    assert current(adapter, ctx) == bad.sha256
    failed = verify(adapter, ctx)
    assert failed.outcome == GateOutcome.FAILED
    ev = failed.evidence["jobs"][JOB]
    assert ev["pex_sha256"] == bad.sha256 and ev["schema_matches"] is False
    assert [f["name"] for f in ev["actual_schema"]["fields"]][-1] == "revenue_usd"

    # Rollback never rebuilds: even with the env's published copy gone it re-publishes from the artifact store.
    (ctx.env_dir / "spark" / "jobs" / f"{good.sha256}.pex").unlink()
    t = time.monotonic()
    back = rollback(adapter, ctx, good)
    print(f"rollback (switch): {time.monotonic() - t:.3f}s")
    assert back.changed and back.evidence["from"] == bad.sha256 and back.evidence["published"] is True
    assert pointer(ctx)["sha256"] == good.sha256
    assert not rollback(adapter, ctx, good).changed  # already live: no-op
    t = time.monotonic()
    ok = verify(adapter, ctx)
    print(f"verify after rollback: {time.monotonic() - t:.3f}s")
    assert ok.outcome == GateOutcome.PASSED and ok.evidence["jobs"][JOB]["pex_sha256"] == good.sha256


def test_clear_undoes_a_first_deployment_and_current_is_per_job(world: dict[str, object]) -> None:
    ctx, good, bad = ctx_for(world, "staging"), world["good"], world["bad"]
    assert isinstance(good, Artifact) and isinstance(bad, Artifact)
    adapter = SparkJobAdapter()
    deploy(adapter, good, ctx)
    assert clear(adapter, ctx, JOB).changed  # what the evaluator calls when a first-ever deployment fails verify
    assert current(adapter, ctx) is None and not (ctx.env_dir / "spark" / f"{JOB}.current").exists()
    assert verify(adapter, ctx).outcome == GateOutcome.FAILED  # nothing live

    # Two jobs live: per-job answers with a name; no single digest without one.
    other = bad.model_copy(update={"name": "other_job"})
    deploy(adapter, good, ctx)
    deploy(adapter, other, ctx)
    assert current(adapter, ctx, JOB) == good.sha256 and current(adapter, ctx, "other_job") == bad.sha256
    assert current(adapter, ctx) is None
    clear(adapter, ctx, "other_job")  # the evaluator names the job it switched; daily_revenue stays live
    assert current(adapter, ctx) == good.sha256


def test_verify_rollback_checks_the_known_good_bytes(world: dict[str, object]) -> None:
    """Rollback verification re-hashes what the pointer names instead of re-running Spark (VerifyMode.INTEGRITY)."""
    ctx, good = ctx_for(world, "rollback-integrity"), world["good"]
    assert isinstance(good, Artifact)
    adapter = SparkJobAdapter()
    deploy(adapter, good, ctx)
    ok = verify(adapter, ctx, mode=VerifyMode.INTEGRITY)
    assert ok.outcome == GateOutcome.PASSED and ok.evidence["mode"] == "integrity"
    published = Path(ok.evidence["jobs"][JOB]["pex"])
    published.chmod(0o644)
    published.write_bytes(published.read_bytes() + b"tampered")
    bad = verify(adapter, ctx, mode=VerifyMode.INTEGRITY)
    assert bad.outcome == GateOutcome.FAILED and "pointer names" in bad.summary


def test_a_failing_job_in_a_batch_blocks_with_only_its_own_failure_named(world: dict[str, object]) -> None:
    ctx, bad, other, runner = ctx_for(world, "batch-bad"), world["bad"], world["other"], world["runner"]
    assert isinstance(bad, Artifact) and isinstance(other, Artifact) and isinstance(runner, CountingRunner)
    adapter = SparkJobAdapter()
    deploy(adapter, bad, ctx)
    deploy(adapter, other, ctx)
    before = len(runner.calls)
    result = verify(adapter, ctx)
    assert runner.jobs_per_call(before) == [[JOB, JOB2]]
    assert result.outcome == GateOutcome.FAILED and result.evidence["failed_jobs"] == [JOB]
    assert result.summary.startswith(f"{JOB}: output schema") and JOB2 not in result.summary
    assert "does not match the declared schema" in result.summary
    bad_ev, other_ev = result.evidence["jobs"][JOB], result.evidence["jobs"][JOB2]
    assert bad_ev["schema_matches"] is False and bad_ev["pex_sha256"] == bad.sha256
    assert [f["name"] for f in bad_ev["actual_schema"]["fields"]][-1] == "revenue_usd"
    assert other_ev["schema_matches"] is True and other_ev["pex_sha256"] == other.sha256  # ran and passed in the batch
    assert {r["target"].split("@")[0]: r["outcome"] for r in result.evidence["results"]} == {JOB: "failed",
                                                                                             JOB2: "passed"}


def test_pre_deploy_check_of_several_jobs_is_one_process_one_result_each(world: dict[str, object]) -> None:
    ctx, bad, other, runner = ctx_for(world, "batch-check"), world["bad"], world["other"], world["runner"]
    assert isinstance(bad, Artifact) and isinstance(other, Artifact) and isinstance(runner, CountingRunner)
    before = len(runner.calls)
    results = SparkJobAdapter().check_jobs(ctx, [bad, other])
    assert runner.jobs_per_call(before) == [[JOB, JOB2]]
    assert [(r.gate, r.target, r.outcome) for r in results] == [
        ("spark_job.check", f"{JOB}@{bad.sha256[:12]}", GateOutcome.FAILED),
        ("spark_job.check", f"{JOB2}@{other.sha256[:12]}", GateOutcome.PASSED)]
    assert JOB2 not in results[0].summary and results[1].evidence["pex_sha256"] == other.sha256
    assert not (ctx.env_dir / "spark").exists()  # a check changes nothing in the env


def test_a_release_verifies_only_the_jobs_whose_digest_changed(world: dict[str, object], tmp_path: Path) -> None:
    """Through the real planner and evaluator: a first release verifies its two jobs in ONE process with one record
    per job; a second release that changes one of them switches and verifies only that job (the unchanged one keeps
    its digest, its DEPLOY stage is "already live")."""
    good, bad, other, runner = world["good"], world["bad"], world["other"], world["runner"]
    assert isinstance(good, Artifact) and isinstance(bad, Artifact) and isinstance(other, Artifact)
    assert isinstance(runner, CountingRunner)
    store, envs = open_store(None, tmp_path / "state"), load_environments(ENVIRONMENTS_YAML)
    # spark_consumers and tests read the release's commit from its git repository, which these synthetic releases do
    # not have (both block, fail-closed, without one); they are tested on real repositories elsewhere (the CLI tests).
    envs = {name: env.model_copy(update={"gates": tuple(g for g in env.gates if g not in ("spark_consumers", "tests"))})
            for name, env in envs.items()}
    base = ctx_for(world, "engine-dev")
    rt = Runtime(store=store, environments=envs, adapters={ArtifactKind.SPARK_JOB: SparkJobAdapter()},
                 env_context=lambda env: EnvContext(env=env, env_dir=base.env_dir, artifact_path=base.artifact_path,
                                                    runner=runner), now=lambda: NOW)

    def release(rid: str, *artifacts: Artifact) -> Release:
        built = Release(id=rid, git_commit=rid[-1] * 40, author="alice@northstar.test", created_at=NOW,
                        artifacts=artifacts)
        with store.transaction() as tx:
            tx.save_release(built)  # as build does: the evaluator switches back to artifacts of stored releases
        return built

    first = release("rel-a", good, other)
    before = len(runner.calls)
    t = time.monotonic()
    applied = apply(plan_deploy(first, envs["dev"], "deploy", "ci", store, envs, NOW), first, rt)
    print(f"first release, 2 jobs verified in one batch: {time.monotonic() - t:.3f}s")
    assert applied.status == "succeeded", applied.reasons
    assert runner.jobs_per_call(before) == [[JOB, JOB2]]  # ONE spark_verify process for both jobs
    verified = next(g for g in applied.gate_results if g.gate == "spark_job.verify")
    jobs = verified.evidence["jobs"]
    assert set(jobs) == {JOB, JOB2} and verified.evidence["failed_jobs"] == []
    for job, artifact in ((JOB, good), (JOB2, other)):  # one record per job, each the digest that was switched
        assert jobs[job]["job"] == job and jobs[job]["pex_sha256"] == artifact.sha256
        assert jobs[job]["mode"] == "shared-jvm" and jobs[job]["schema_matches"] is True and jobs[job]["rows"] > 0
    assert [(r["target"], r["outcome"]) for r in verified.evidence["results"]] == [
        (f"{JOB}@{good.sha256[:12]}", "passed"), (f"{JOB2}@{other.sha256[:12]}", "passed")]

    second = release("rel-b", bad, other)
    plan = plan_deploy(second, envs["dev"], "deploy", "ci", store, envs, NOW)
    assert {s.artifact.name: s.skip_reason for s in plan.stages if isinstance(s, DeployStage)} == {
        JOB: None, JOB2: "already live"}
    assert [t.names for s in plan.stages if isinstance(s, VerifyStage) for t in s.targets] == [(JOB,)]
    before = len(runner.calls)
    result = apply(plan, second, rt)
    assert runner.jobs_per_call(before) == [[JOB]]  # the unchanged job is not run again
    assert result.status == "failed" and len(result.reasons) == 1 and JOB in result.reasons[0]
    assert JOB2 not in result.reasons[0]
    assert SparkJobAdapter().current(base) == {JOB: good.sha256, JOB2: other.sha256}  # switched back


def test_job_discovery_excludes_the_verifier() -> None:
    listing = "spark:daily_revenue\nspark:spark_verify\nspark:hourly_sessions\n"
    assert parse_job_targets(listing) == ["spark:daily_revenue", "spark:hourly_sessions"]


@pytest.mark.skipif(os.environ.get("NORTHSTAR_TEST_PANTS_PACKAGE") != "1",
                    reason="package() runs ./pants, impossible inside a Pants sandbox; run by hand with "
                           "NORTHSTAR_TEST_PANTS_PACKAGE=1 from a checkout")
def test_package_is_deterministic_by_hand(tmp_path: Path) -> None:
    adapter = SparkJobAdapter()
    digests = []
    for i in range(2):
        work = tmp_path / f"build{i}"
        work.mkdir()
        paths = adapter.package(BuildContext(repo_root=REPO, git_commit="HEAD", release_id="rel-test", work_dir=work))
        names = [p.name for p in paths]
        assert f"{JOB}.pex" in names and f"{JOB2}.pex" in names and len(names) == len(set(names))
        digests.append({p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in paths})
    assert digests[0] == digests[1]
