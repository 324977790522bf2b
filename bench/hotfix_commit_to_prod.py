#!/usr/bin/env python3
"""Benchmark: an emergency change from commit to live in prod through the hotfix lane, with the real `./release` CLI.

Why a benchmark and not a timed test: wall times depend on the machine and its load. This script prints a table and
writes JSON so the figure can be reproduced:

    python3 bench/hotfix_commit_to_prod.py [--rounds 3] [--output bench/results/hotfix_commit_to_prod.json]

Scope (stated so the figure is not over-read): a throwaway repository holding this repo's DAGs, legacy DAGs and
environments file -- the DAG bundle, the artifact an emergency DAG fix ships. v1 goes to prod the ordinary way; then
each round commits a DAG change and times `build --emergency` -> `approve` by the on-call reviewer -> `deploy --env
prod` (every prod gate runs: secret scan, env config, DagBag integrity with the real Airflow entry point, warehouse
audit, infra policy and cost -- the last three pass trivially when the release carries no such artifact -- then the
switch and the full DagBag verification). The commit itself is made before the clock starts.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "pipelines"))  # run as a plain script: the shared CLI driver is stdlib-only

from northstar_release.cli_driver import (  # noqa: E402
    AUTHOR,
    ONCALL,
    OUTSIDE_FREEZE,
    RELEASE,
    CommandFailed,
    ReleaseCli,
    commit_all,
    make_dag_repo,
    sh,
    ship_to_prod,
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3, help="emergency changes to time (default 3)")
    parser.add_argument("--output", type=Path, default=REPO / "bench" / "results" / "hotfix_commit_to_prod.json")
    opts = parser.parse_args()

    sh([str(RELEASE), "--help"], REPO, dict(os.environ))  # one-time set-up of the tools venv + entry points
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="bench-hotfix-") as tmp:
        root = Path(tmp)
        repo = make_dag_repo(root)
        env = {**os.environ, "NORTHSTAR_STATE_DIR": str(root / "state"), "NORTHSTAR_NOW": OUTSIDE_FREEZE}
        cli = ReleaseCli(repo, env)
        v1 = cli.must("build")["release"]["id"]
        ship_to_prod(cli, v1)
        dag = sorted((repo / "airflow" / "dags").glob("*.py"))[0]
        for i in range(opts.rounds):
            dag.write_text(dag.read_text() + f"\n# hotfix {i + 1}\n")
            commit_all(repo, f"hotfix {i + 1}", AUTHOR, env)
            started = time.monotonic()
            built = cli.must("build", "--emergency")["release"]
            t_build = time.monotonic()
            cli.must("approve", built["id"], "--env", "prod", actor=ONCALL)
            t_approve = time.monotonic()
            out = cli.must("deploy", built["id"], "--env", "prod", actor=ONCALL)
            t_deploy = time.monotonic()
            if out.get("status") != "succeeded":
                raise CommandFailed(f"round {i + 1}: deploy ended {out.get('status')}: {out.get('reasons')}")
            rows.append({"round": i + 1, "release": built["id"], "build_s": round(t_build - started, 3),
                         "approve_s": round(t_approve - t_build, 3), "deploy_s": round(t_deploy - t_approve, 3),
                         "commit_to_prod_s": round(t_deploy - started, 3),
                         "deploy_component_s": out["timing"]["component_s"]})
        pending = cli.call("hotfix", "pending")
        verify = cli.must("audit", "verify")  # reviews are due in 24 h: none overdue yet

    keys = ("build_s", "approve_s", "deploy_s", "commit_to_prod_s", "deploy_component_s")
    med = {k: round(statistics.median(float(r[k]) for r in rows), 3) for k in keys}
    summary = {
        "benchmark": "hotfix_commit_to_prod",
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "rounds": rows,
        "median": med,
        "max": {k: round(max(float(r[k]) for r in rows), 3) for k in keys},
        "reviews_pending": len((pending.doc or {}).get("reviews", [])),
        "audit_chain_ok": bool(verify.get("ok")),
        "command": "python3 bench/hotfix_commit_to_prod.py --rounds %d" % opts.rounds,
    }
    opts.output.parent.mkdir(parents=True, exist_ok=True)
    opts.output.write_text(json.dumps(summary, indent=2) + "\n")

    print("hotfix lane: commit -> live in prod (seconds; the DAG bundle of this repo)")
    print(f"{'round':>6}  {'build':>7}  {'approve':>7}  {'deploy':>7}  {'total':>7}")
    for r in rows:
        print(f"{r['round']:>6}  {r['build_s']:>7.2f}  {r['approve_s']:>7.2f}  {r['deploy_s']:>7.2f}  "
              f"{r['commit_to_prod_s']:>7.2f}")
    print(f"{'median':>6}  {med['build_s']:>7.2f}  {med['approve_s']:>7.2f}  {med['deploy_s']:>7.2f}  "
          f"{med['commit_to_prod_s']:>7.2f}")
    print(f"post-hoc reviews pending: {summary['reviews_pending']}; audit chain intact: {summary['audit_chain_ok']}; "
          f"JSON written to {opts.output}")
    return 0


if __name__ == "__main__":
    try:
        raise SystemExit(main())
    except CommandFailed as exc:
        sys.exit(f"bench: {exc}")
