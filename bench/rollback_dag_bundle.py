#!/usr/bin/env python3
"""Benchmark: rolling prod's DAG bundle back to its last known-good release, through the real `./release` CLI.

Why a benchmark and not a timed test: wall times depend on the machine and its load; a unit test asserting them would
be flaky and would not tell anyone the number. This script prints a table and writes JSON so the figure in
docs/benchmarks.md can be reproduced:

    python3 bench/rollback_dag_bundle.py [--rounds 5] [--output bench/results/rollback_dag_bundle.json]

It builds a throwaway git repository holding this repo's DAGs, legacy DAGs and environments file, takes two releases
through dev -> staging -> approval -> prod, then alternates "rollback prod" and "promote the newer release again" for
--rounds rounds. Each rollback reports total wall time, the time spent in component entry points (the Airflow DagBag
verify, a separate process) and the engine's own work (the difference: locking, state transactions, audit, the
atomic symlink switch). The first `./release` call sets up the tools venv and the DagBag PEX if needed (not timed).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

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
    parser.add_argument("--rounds", type=int, default=5, help="rollbacks to time (default 5)")
    parser.add_argument("--output", type=Path, default=REPO / "bench" / "results" / "rollback_dag_bundle.json")
    opts = parser.parse_args()

    sh([str(RELEASE), "--help"], REPO, dict(os.environ))  # one-time set-up of the tools venv + DagBag PEX
    with tempfile.TemporaryDirectory(prefix="bench-rollback-") as tmp:
        root = Path(tmp)
        repo = make_dag_repo(root)
        env = {**os.environ, "NORTHSTAR_STATE_DIR": str(root / "state"), "NORTHSTAR_NOW": OUTSIDE_FREEZE}
        cli = ReleaseCli(repo, env)
        v1 = cli.must("build")["release"]["id"]
        ship_to_prod(cli, v1)
        (repo / "airflow" / "dags" / "orders_daily.py").write_text(
            (repo / "airflow" / "dags" / "orders_daily.py").read_text() + "\n# v2\n")
        commit_all(repo, "v2", AUTHOR, env)
        v2 = cli.must("build")["release"]["id"]
        ship_to_prod(cli, v2)

        rows = []
        for i in range(opts.rounds):
            out = cli.must("rollback", "--env", "prod", "--reason", f"bench round {i + 1}", actor=ONCALL)
            assert out["ok"] and out["release_id"] == v1, out
            rows.append({"round": i + 1, **out["timing"]})
            cli.must("promote", v2, "--to", "prod")  # back to v2 for the next round (not timed)
        verify = cli.must("audit", "verify")

    median = {k: round(statistics.median(r[k] for r in rows), 3) for k in ("total_s", "engine_s", "component_s")}
    summary = {
        "benchmark": "rollback_dag_bundle",
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "rounds": rows,
        "median": median,
        "max": {k: round(max(r[k] for r in rows), 3) for k in ("total_s", "engine_s", "component_s")},
        "audit_chain_ok": bool(verify.get("ok")),
        "command": "python3 bench/rollback_dag_bundle.py --rounds %d" % opts.rounds,
    }
    opts.output.parent.mkdir(parents=True, exist_ok=True)
    opts.output.write_text(json.dumps(summary, indent=2) + "\n")

    print("rollback of prod's DAG bundle to last known-good (seconds)")
    print(f"{'round':>5}  {'total':>7}  {'engine':>7}  {'component':>9}")
    for r in rows:
        print(f"{r['round']:>5}  {r['total_s']:>7.3f}  {r['engine_s']:>7.3f}  {r['component_s']:>9.3f}")
    print(f"{'median':>5}  {median['total_s']:>7.3f}  {median['engine_s']:>7.3f}  {median['component_s']:>9.3f}")
    print(f"audit chain intact: {summary['audit_chain_ok']}; JSON written to {opts.output}")
    return 0


if __name__ == "__main__":
    try:
        raise SystemExit(main())
    except CommandFailed as exc:
        sys.exit(f"bench: {exc}")
