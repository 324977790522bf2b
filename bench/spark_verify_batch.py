#!/usr/bin/env python3
"""Benchmark: post-switch verification of every Spark job of a first release -- one ``spark_verify`` per job (the
adapter before batching) against all jobs in one ``spark_verify`` process on one shared JVM (the adapter now).

Why this shape: a first release ships every job (20 today), so its dev deployment verifies them all. This script
publishes every job PEX into a throwaway dev env through the real ``SparkJobAdapter`` (switch), then times
(a) "per job": ``spark_verify --job-pex P --job J`` once per job, exactly the calls the adapter made before, and
(b) "batch": ``SparkJobAdapter.verify`` of all live jobs (one process, one JVM), rounds interleaved so machine load
hits both alike. It fails unless both agree job by job. Run on demand (not a test), from a checkout:

    ./pants package spark:spark_verify $(./pants list --filter-tag-regex='^spark_job$' spark::)
    PYTHONPATH=pipelines python3 bench/spark_verify_batch.py [--jobs N] [--rounds 1] [--output FILE.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from northstar_release.adapters.base import EnvContext, SwitchRequest, VerifyRequest
from northstar_release.adapters.spark_job import ENTRY_POINT, SparkJobAdapter
from northstar_release.artifact_store import LocalArtifactStore
from northstar_release.model import ArtifactKind
from northstar_release.runner import SubprocessComponentRunner

REPO = Path(__file__).resolve().parents[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--dist", type=Path, default=REPO / "dist" / "spark", help="folder of the job PEXes")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--jobs", type=int, default=0, help="only the first N job PEXes (by name); 0: all")
    parser.add_argument("--output", type=Path, help="also write the result as JSON here")
    args = parser.parse_args()
    pexes = sorted(args.dist.glob("*.pex"))[: args.jobs or None]
    if not pexes:
        sys.exit(f"bench: no job PEX under {args.dist}; build them first (see the module docstring)")
    runner = SubprocessComponentRunner(REPO, timeout_s=3600.0)
    adapter = SparkJobAdapter()
    with tempfile.TemporaryDirectory(prefix="bench-spark-verify-") as tmp:
        store = LocalArtifactStore(Path(tmp) / "artifacts")
        env_dir = Path(tmp) / "envs" / "dev"
        env_dir.mkdir(parents=True)
        ctx = EnvContext(env="dev", env_dir=env_dir, artifact_path=lambda a: store.path_for(a.sha256), runner=runner)
        for pex in pexes:
            adapter.switch(SwitchRequest(artifact=store.put(pex, ArtifactKind.SPARK_JOB, pex.stem), env=ctx))
        live = adapter.current(ctx)
        rounds: list[dict[str, Any]] = []
        for _ in range(args.rounds):
            started = time.monotonic()
            per_job = {job: runner.run(ENTRY_POINT, ["--job-pex", str(env_dir / "spark" / "jobs" / f"{sha}.pex"),
                                                      "--job", job]).payload.get("schema_matches") is True
                       for job, sha in sorted(live.items())}
            per_job_s = time.monotonic() - started
            started = time.monotonic()
            batch = adapter.verify(VerifyRequest(env=ctx))
            batch_s = time.monotonic() - started
            in_batch = {job: rec["schema_matches"] is True for job, rec in batch.evidence["jobs"].items()}
            if in_batch != per_job:
                sys.exit(f"bench: per-job and batch verdicts differ: {per_job} vs {in_batch}")
            rounds.append({"per_job_s": round(per_job_s, 1), "per_job_processes": len(live),
                           "batch_s": round(batch_s, 1), "batch_processes": 1, "passed": sum(in_batch.values())})
            print(f"{len(live)} jobs: one spark_verify per job {per_job_s:.1f}s, one batch {batch_s:.1f}s "
                  f"({sum(in_batch.values())} passed)", flush=True)
    result = {"at": datetime.now(UTC).isoformat(), "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
              "jobs": len(live), "rounds": rounds}
    print(json.dumps(result, indent=2))
    if args.output:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
