"""Spark job adapter (kind SPARK_JOB): each Spark job is one PEX built by Pants, content-addressed, named after the job.

Why this shape:
* package: ONE ``./pants package spark:<job1> spark:<job2> ...`` call for every job ``pex_binary`` under ``spark/``
  (found with ``./pants list --filter-target-type=pex_binary --filter-tag-regex=^spark_job$ spark::``; the verifier
  ``spark:spark_verify`` is a component entry point, not a job): one Pants run builds them all in parallel. pyspark
  is not inside a job PEX (the cluster provides it; ``inherit_path="fallback"``), and Pants builds PEXes
  reproducibly (fixed zip timestamps, sorted entries), so the same commit yields the same sha256.
  ``build`` refuses a dirty tree, so the working tree Pants packages is exactly the release's commit.
* deploy: the PEX is published once per digest to ``<env_dir>/spark/jobs/<sha256>.pex`` (temp file + rename, hash
  checked) and the env's pointer ``<env_dir>/spark/<job>.current`` -- a small JSON ``{job, sha256, pex}`` -- is
  replaced with ``os.replace``: readers (DAGs resolve a job through this pointer, never "latest") see the old or the
  new digest, never a mix. Re-deploying the live digest is a no-op.
* verify runs the ``spark_verify`` component entry point (spark resolve; the engine never imports pyspark) ONCE for
  all the jobs to verify (``spark_batch``): every pointed-to PEX on its small fixture against one shared Spark JVM
  (one job alone: its own spark-submit), each job's output checked against the schema its code declares, one record
  and one result per job.
* rollback is the same pointer switch to an older digest, re-published from the artifact store if the env's copy is
  gone: no rebuild.

Several jobs per release: the artifact name is the job name; ``current`` maps every live job to its digest; switch
and clear handle one job, verify (and ``check_jobs``) take all the kind's jobs of a request in one process. With
content digests a release that does not change a job ships the same digest, so only changed jobs are switched and
verified. Jobs are discovered generically: every
``pex_binary`` under ``spark/`` tagged ``spark_job`` (no job name is written in the engine).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from northstar_release import faults, gitutil
from northstar_release.adapters import spark_batch
from northstar_release.adapters.base import (
    BuildContext,
    CheckRequest,
    ClearRequest,
    DeployOutcome,
    EnvContext,
    SwitchRequest,
    VerifyRequest,
)
from northstar_release.adapters.spark_batch import JobRun
from northstar_release.errors import UsageError
from northstar_release.fsutil import atomic_write, fsync_dir, sha256_file
from northstar_release.kinds.spec import KindSpec
from northstar_release.model import Artifact, ArtifactKind, GateOutcome, GateResult
from northstar_release.stages import SwitchMode, VerifyMode

ENTRY_POINT = "spark_verify"
SPARK_DIR = "spark"  # the repo folder holding the Spark jobs' targets
JOB_TAG = "spark_job"  # the Pants tag every job pex_binary carries
NOT_JOBS = frozenset({"spark:spark_verify"})  # pex_binary targets under spark/ that are tools, not jobs
POINTER_SUFFIX = ".current"
PANTS_TIMEOUT_S = 1800.0


def parse_job_targets(listing: str) -> list[str]:
    """``./pants list`` output -> sorted job targets (``spark:<job>``), without the verifier."""
    targets = {line.strip() for line in listing.splitlines() if line.strip()}
    return sorted(t for t in targets if t not in NOT_JOBS and ":" in t)


def job_name(target: str) -> str:
    return target.rsplit(":", 1)[1]


class SparkJobAdapter:
    kind = ArtifactKind.SPARK_JOB

    # ---- build ---------------------------------------------------------------------------------------------------
    def discover_jobs(self, repo: Path) -> list[str]:
        """Every job target: pex_binary targets under spark/ tagged ``spark_job`` (untagged tools are not jobs)."""
        listing = _pants(repo, ["list", "--filter-target-type=pex_binary", f"--filter-tag-regex=^{JOB_TAG}$",
                                f"{SPARK_DIR}::"])
        return parse_job_targets(listing)

    def package(self, ctx: BuildContext) -> list[Path]:
        if not gitutil.list_tree(ctx.repo_root, ctx.git_commit, SPARK_DIR):
            return []  # a repository without spark/ ships no Spark jobs
        targets = self.discover_jobs(ctx.repo_root)
        if not targets:
            return []
        # Pants requires its distdir inside the build root: a private folder per build, removed afterwards.
        dist_rel = Path("dist") / ".spark-build" / f"{ctx.release_id}-{os.getpid()}"
        dist = ctx.repo_root.resolve() / dist_rel
        try:
            _pants(ctx.repo_root, [f"--pants-distdir={dist_rel}", "package", *targets])
            out: list[Path] = []
            for target in targets:
                built = _find_built_pex(dist, target)
                final = ctx.work_dir / f"{job_name(target)}.pex"  # build.py names the artifact after the stem: the job
                shutil.copyfile(built, final)
                out.append(final)
        finally:
            shutil.rmtree(dist, ignore_errors=True)
        return out

    # ---- checks --------------------------------------------------------------------------------------------------
    def check(self, req: CheckRequest) -> GateResult:
        """Run the verifier on the store's blob before deploying; nothing in the env changes."""
        return self.check_jobs(req.env, (req.artifact,))[0]

    def check_jobs(self, env: EnvContext, artifacts: Sequence[Artifact]) -> list[GateResult]:
        """Pre-deploy check of several jobs' store blobs in ONE ``spark_verify`` process: one GateResult per job."""
        runs = [JobRun(job=a.name, pex=Path(env.artifact_path(a)), sha256=a.sha256) for a in artifacts]
        return spark_batch.verify_jobs(env.runner, runs, "spark_job.check")

    def verify(self, req: VerifyRequest) -> GateResult:
        """Verify the jobs ``req.names`` (all live jobs when empty) the env's pointers name, one GateResult for the kind.

        FULL: every job in ONE ``spark_verify`` process (one Spark JVM; ``spark_batch``), judged job by job: the
        evidence holds one record and one result per job, and the summary names only the jobs that failed.
        INTEGRITY: the published PEX bytes are exactly the digest the pointer names -- used when a full run of that
        very digest already passed (a known-good rollback target in this env, or a promotion of a digest verified in
        the previous env: the run depends only on the PEX bytes and the fixture). The evaluator asks for the switched
        jobs only, so a release that leaves a job's digest unchanged does not run that job again."""
        env = req.env
        pointers = self._pointers(env)
        if req.names:
            pointers = {job: p for job, p in pointers.items() if job in req.names}
            missing = sorted(set(req.names) - set(pointers))
        else:
            missing = []
        target = f"{env.env}:spark[{','.join(sorted(pointers)) or '-'}]"
        if not pointers or missing:
            return GateResult(gate="spark_job.verify", target=target, outcome=GateOutcome.FAILED,
                              summary=f"no live pointer for Spark job(s) {', '.join(missing)}" if missing
                              else "no Spark job is live")
        if req.mode == VerifyMode.INTEGRITY:
            return self._integrity(env, pointers, target)
        runs = [JobRun(job=job, pex=self._published_path(env, p["sha256"]), sha256=p["sha256"])
                for job, p in sorted(pointers.items())]
        per_job = spark_batch.verify_jobs(env.runner, runs, "spark_job.verify")
        failed = [r for r in per_job if r.blocking]
        summary = (" | ".join(r.summary for r in failed) if failed else
                   f"{len(per_job)} job(s) verified in one spark_verify process: "
                   + " | ".join(r.summary for r in per_job))
        return GateResult(gate="spark_job.verify", target=target,
                          outcome=GateOutcome.FAILED if failed else GateOutcome.PASSED, summary=summary,
                          evidence={"jobs": {run.job: r.evidence for run, r in zip(runs, per_job, strict=True)},
                                    # one result per job (its record is under "jobs"): the verdicts, job by job
                                    "results": [r.model_dump(mode="json", include={"gate", "target", "outcome",
                                                                                   "summary"}) for r in per_job],
                                    "failed_jobs": [run.job for run, r in zip(runs, per_job, strict=True)
                                                    if r.blocking],
                                    "spark_verify_processes": 1})

    def _integrity(self, env: EnvContext, pointers: dict[str, dict[str, Any]], target: str) -> GateResult:
        problems, checked = [], {}
        for job, pointer in sorted(pointers.items()):
            pex = self._published_path(env, pointer["sha256"])
            digest = sha256_file(pex) if pex.exists() else None
            checked[job] = {"pointer": pointer["sha256"], "on_disk": digest, "pex": str(pex)}
            if digest != pointer["sha256"]:
                problems.append(f"{job}: pointer names {pointer['sha256'][:12]} but the published PEX is "
                                f"{'missing' if digest is None else digest[:12]}")
        return GateResult(gate="spark_job.verify", target=target,
                          outcome=GateOutcome.FAILED if problems else GateOutcome.PASSED,
                          summary="; ".join(problems) or f"{len(pointers)} job PEX(es) intact (integrity check; "
                                                          "the full run of these digests passed before)",
                          evidence={"mode": "integrity", "jobs": checked})

    # ---- pointers ------------------------------------------------------------------------------------------------
    def on_disk(self, env: EnvContext) -> dict[str, str]:
        """Job name -> sha256 its pointer names, for every live job (cheap: the PEXes are not read)."""
        return {job: pointer["sha256"] for job, pointer in self._pointers(env).items()}

    def current(self, env: EnvContext) -> dict[str, str]:
        """What a DAG's spark-submit really runs: job -> the pointer's digest when the published PEX it names has
        exactly those bytes; otherwise ``modified:<sha12> (...)`` (equal to no digest), so recovery re-publishes it."""
        out = {}
        for job, sha in self.on_disk(env).items():
            pex = self._published_path(env, sha)
            digest = sha256_file(pex) if pex.is_file() else None
            out[job] = sha if digest == sha else (
                f"modified:{sha[:12]} (published PEX {'missing' if digest is None else 'is ' + digest[:12]})")
        return out

    def switch(self, req: SwitchRequest) -> DeployOutcome:
        return self._switch(req.artifact, req.env,
                            verb="rolled back to" if req.mode == SwitchMode.ROLLBACK else "deployed")

    def restore_hint(self, env: EnvContext, artifact: Artifact) -> str:
        """The switch re-publishes the stored blob (when the published PEX is missing or changed) and rewrites the
        job's pointer: it fails when that blob is missing or corrupt or the env's spark folder cannot be written."""
        return (f"put the job PEX blob {artifact.uri} (sha256 {artifact.sha256[:12]}) back into the artifact store "
                f"intact: the switch then publishes it read-only as {self._published_path(env, artifact.sha256)} and "
                f"points {self._pointer_path(env, artifact.name)} at it; nothing may rewrite a published PEX")

    def clear(self, req: ClearRequest) -> DeployOutcome:
        """Remove job ``req.name``'s pointer: its first-ever deployment failed, nothing of it was live before."""
        pointer = self._pointer_path(req.env, req.name)
        if pointer.exists():
            pointer.unlink()
            fsync_dir(pointer.parent)
            return DeployOutcome(changed=True, message=f"removed Spark job pointer {req.name} (none existed before)",
                                 name=req.name)
        return DeployOutcome(changed=False, message=f"no Spark job pointer {req.name} to clear", name=req.name)

    def _switch(self, artifact: Artifact, env: EnvContext, verb: str) -> DeployOutcome:
        job = artifact.name
        pointer = self._pointer_path(env, job)
        previous = self.on_disk(env).get(job)
        published = self._published_path(env, artifact.sha256)
        if previous == artifact.sha256 and published.exists() and sha256_file(published) == artifact.sha256:
            return DeployOutcome(changed=False, message=f"{job}@{artifact.sha256[:12]} already live",
                                 evidence={"job": job, "sha256": artifact.sha256, "pex": str(published)},
                                 name=job, sha256=artifact.sha256)
        republished = self._publish(artifact, env)
        body = {"job": job, "sha256": artifact.sha256, "pex": f"jobs/{artifact.sha256}.pex"}
        faults.point(f"switch:{self.kind.value}")
        atomic_write(pointer, (json.dumps(body, indent=2, sort_keys=True) + "\n").encode())
        return DeployOutcome(changed=True, message=f"{verb} Spark job {job}@{artifact.sha256[:12]}",
                             evidence={"job": job, "from": previous, "to": artifact.sha256, "pex": str(published),
                                       "pointer": str(pointer), "published": republished},
                             name=job, sha256=artifact.sha256)

    def _publish(self, artifact: Artifact, env: EnvContext) -> bool:
        """Copy the store's blob to ``<env>/spark/jobs/<sha>.pex`` once (temp + rename); True if it was written now."""
        final = self._published_path(env, artifact.sha256)
        if final.exists() and sha256_file(final) == artifact.sha256:
            return False
        final.parent.mkdir(parents=True, exist_ok=True)
        blob = Path(env.artifact_path(artifact))
        fd, tmp_name = tempfile.mkstemp(prefix=f".{artifact.sha256[:12]}.", suffix=".tmp", dir=final.parent)
        tmp = Path(tmp_name)
        try:
            with os.fdopen(fd, "wb") as out, open(blob, "rb") as src:
                shutil.copyfileobj(src, out, 1 << 20)
                out.flush()
                os.fsync(out.fileno())
            digest = sha256_file(tmp)
            if digest != artifact.sha256:
                raise RuntimeError(f"artifact store blob for {artifact.name} has sha256 {digest}, "
                                   f"expected {artifact.sha256}")
            tmp.chmod(0o555)  # spark-submit executes it as PYSPARK_PYTHON; read-only: a deployed artifact never changes
            os.replace(tmp, final)
        finally:
            tmp.unlink(missing_ok=True)
        fsync_dir(final.parent)
        return True

    def _pointers(self, env: EnvContext) -> dict[str, dict[str, Any]]:
        folder = env.env_dir / "spark"
        out: dict[str, dict[str, Any]] = {}
        if not folder.is_dir():
            return out
        for path in sorted(folder.glob(f"*{POINTER_SUFFIX}")):
            try:
                body = json.loads(path.read_text())
            except (OSError, json.JSONDecodeError):
                continue  # never half-written (atomic replace); an unreadable file is not a live pointer
            if isinstance(body, dict) and isinstance(body.get("sha256"), str) and len(body["sha256"]) == 64:
                out[path.name[: -len(POINTER_SUFFIX)]] = body
        return out

    @staticmethod
    def _pointer_path(env: EnvContext, job: str) -> Path:
        return env.env_dir / "spark" / f"{job}{POINTER_SUFFIX}"

    @staticmethod
    def _published_path(env: EnvContext, sha256: str) -> Path:
        return env.env_dir / "spark" / "jobs" / f"{sha256}.pex"


def _pants(repo: Path, args: list[str]) -> str:
    repo = repo.resolve()
    pants = repo / "pants"
    if not pants.exists():
        raise UsageError(f"cannot package Spark jobs: no ./pants in {repo}")
    proc = subprocess.run([str(pants), *args], cwd=repo, capture_output=True, text=True, timeout=PANTS_TIMEOUT_S)
    if proc.returncode != 0:
        raise UsageError(f"./pants {' '.join(args)} failed (exit {proc.returncode})",
                         [line for line in proc.stderr.strip().splitlines()[-15:]])
    return proc.stdout


def _find_built_pex(dist: Path, target: str) -> Path:
    """Pants writes ``spark:<job>`` to ``<dist>/spark/<job>.pex`` unless the target sets output_path."""
    expected = dist / target.replace(":", "/").lstrip("/")
    expected = expected.with_name(expected.name + ".pex")
    if expected.is_file():
        return expected
    found = sorted(dist.rglob(f"{job_name(target)}.pex"))
    if len(found) == 1:
        return found[0]
    raise UsageError(f"./pants package {target} did not produce {expected}", [f"found: {[str(f) for f in found]}"])


SPEC = KindSpec(
    kind=ArtifactKind.SPARK_JOB, title="Spark job", source_roots=(SPARK_DIR,), entry_point=ENTRY_POINT,
    entry_point_target="spark:spark_verify", adapter=SparkJobAdapter,
    # Pre-entry: spark_consumers (its declared bronze output against the models reading it). The job's unit tests
    # run in CI (`./pants test`), and every deployment verifies the job PEX under spark-submit against its declared
    # schema right after the pointer switch (failure switches back).
    gates=("spark_consumers",),
    rollback_verify=VerifyMode.INTEGRITY, verify_env_dependent=False)
