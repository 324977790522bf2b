#!/usr/bin/env python3
"""Benchmark: post-deploy regression detected by `./release health watch` and prod rolled back automatically.

Why a benchmark and not a timed test: wall times depend on the machine and its load. This script prints a table and
writes JSON so the figure can be reproduced:

    python3 bench/health_watch_rollback.py [--rounds 3] [--output bench/results/health_watch_rollback.json]

Needs the Airflow history fixture PEX (`./pants package pipelines/northstar_health_fixtures:airflow_history`, path in
NORTHSTAR_AIRFLOW_HISTORY_PEX or dist/entrypoints/airflow_history.pex): it writes real DAG runs (`dag.test()`) into
prod's Airflow metadata DB (<state>/envs/prod/airflow/airflow.db).

A throwaway repository holding this repo's DAGs, legacy DAGs and environments file takes v1 and v2 through dev ->
staging -> approval -> prod. Each round: 25 good runs of a fresh DAG while v1 is live, v2 promoted to prod, 15 runs
of which every fifth fails, then one `./release health watch --env prod` (the scheduled job). Reported per round:
detection_to_rollback_s as recorded in the audit chain (`health.rollback`: rollback.succeeded.at minus
health.regression.at: the rollback's checks, switch, verify and audit), and the watch command's wall time (interpreter
start-up, reading Airflow's DB, the statistics, the rollback, the alert state). The time from the failing run to
detection is the schedule's interval (not measured: it is configuration).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
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

BASELINE, WATCH, FAILING = 25, 15, {4, 9, 14}


def airflow_runs(pex: Path, home: Path, dag_id: str, count: int, failing: set[int]) -> None:
    """``count`` real runs of a 3-task DAG into ``home``/airflow.db; the runs in ``failing`` fail in ``transform``."""
    spec = home.parent / f"{dag_id}-{count}.json"
    home.mkdir(parents=True, exist_ok=True)
    spec.write_text(json.dumps({"steps": [{"dag_id": dag_id, "fail": i in failing} for i in range(count)]}))
    proc = subprocess.run([str(pex), str(spec), str(home)], capture_output=True, text=True, timeout=1800)
    if proc.returncode != 0:
        raise CommandFailed(f"airflow_history: exit {proc.returncode}: {proc.stderr[-2000:]}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3, help="regressions to detect and roll back (default 3)")
    parser.add_argument("--output", type=Path, default=REPO / "bench" / "results" / "health_watch_rollback.json")
    opts = parser.parse_args()
    pex = Path(os.environ.get("NORTHSTAR_AIRFLOW_HISTORY_PEX", REPO / "dist" / "entrypoints" / "airflow_history.pex"))
    if not pex.is_file():
        sys.exit(f"bench: {pex} missing: ./pants package pipelines/northstar_health_fixtures:airflow_history")

    sh([str(RELEASE), "--help"], REPO, dict(os.environ))  # one-time set-up of the tools venv + entry points
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="bench-health-watch-") as tmp:
        root = Path(tmp)
        repo = make_dag_repo(root)
        env = {**os.environ, "NORTHSTAR_STATE_DIR": str(root / "state"), "NORTHSTAR_NOW": OUTSIDE_FREEZE}
        home = root / "state" / "envs" / "prod" / "airflow"
        cli = ReleaseCli(repo, env)
        v1 = cli.must("build")["release"]["id"]
        ship_to_prod(cli, v1)
        dags = repo / "airflow" / "dags"
        first = sorted(dags.glob("*.py"))[0]
        first.write_text(first.read_text() + "\n# v2\n")
        commit_all(repo, "v2", AUTHOR, env)
        v2 = cli.must("build")["release"]["id"]
        for i in range(opts.rounds):
            dag_id = f"bench_watch_{i + 1}"
            airflow_runs(pex, home, dag_id, BASELINE, set())
            if i == 0:
                ship_to_prod(cli, v2)
            else:
                cli.must("promote", v2, "--to", "prod")
            airflow_runs(pex, home, dag_id, WATCH, FAILING)
            call = cli.call("health", "watch", "--env", "prod", "--dag", dag_id, actor=ONCALL)
            doc = call.doc or {}
            if call.exit_code != 1 or doc.get("status") != "rolled_back":
                raise CommandFailed(f"round {i + 1}: expected a rollback: {call.describe_failure()} {doc.get('status')}")
            rollback = doc["rollback"]
            rows.append({"round": i + 1, "dag": dag_id, "rolled_back_to": rollback["release_id"],
                         "detection_to_rollback_s": rollback["detection_to_rollback_s"],
                         "watch_command_s": round(call.seconds, 3)})
            assert rollback["release_id"] == v1, rollback
        verify = cli.must("audit", "verify")

    keys = ("detection_to_rollback_s", "watch_command_s")
    med = {k: round(statistics.median(float(r[k]) for r in rows), 3) for k in keys}
    summary = {
        "benchmark": "health_watch_rollback",
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "rounds": rows,
        "median": med,
        "max": {k: round(max(float(r[k]) for r in rows), 3) for k in keys},
        "audit_chain_ok": bool(verify.get("ok")),
        "command": "python3 bench/health_watch_rollback.py --rounds %d" % opts.rounds,
    }
    opts.output.parent.mkdir(parents=True, exist_ok=True)
    opts.output.write_text(json.dumps(summary, indent=2) + "\n")

    print("regression watch -> automatic rollback of prod (seconds)")
    print(f"{'round':>5}  {'detection->rollback':>19}  {'watch command':>13}")
    for r in rows:
        print(f"{r['round']:>5}  {r['detection_to_rollback_s']:>19.3f}  {r['watch_command_s']:>13.3f}")
    print(f"{'median':>5}  {med['detection_to_rollback_s']:>19.3f}  {med['watch_command_s']:>13.3f}")
    print(f"audit chain intact: {summary['audit_chain_ok']}; JSON written to {opts.output}")
    return 0


if __name__ == "__main__":
    try:
        raise SystemExit(main())
    except CommandFailed as exc:
        sys.exit(f"bench: {exc}")
