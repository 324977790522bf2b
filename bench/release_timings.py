#!/usr/bin/env python3
"""Benchmark: promotion and rollback wall times per artifact kind and for the whole release.

Why this shape: the demo already takes a realistic release (all four artifact kinds) through dev -> staging -> prod,
promotes a second release and rolls prod back. Every deployment records when each of its stages finished, so the
per-kind figures come from those records instead of a second, synthetic harness. Run on demand (not a test):

    python3 bench/release_timings.py [--output bench/results/release_timings.json]

It runs `./release demo --json --keep` in a temporary work dir, reads `./release history --json` from the demo's
state, and prints one row per promotion/rollback: total wall time, each artifact kind's deploy stage, the
verification stage, and the warehouse rows recomputed (from the demo summary for the rollback).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RELEASE = REPO / "release"
PROMOTION_GOAL_S, ROLLBACK_GOAL_S = 10.0, 5.0  # issue 8: staging -> prod promotion, whole-platform rollback


def run_json(args: list[str], cwd: Path, env: dict[str, str], log: Path) -> dict:
    with log.open("a") as err:
        proc = subprocess.run(args, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=err, text=True)
    try:
        return json.loads(proc.stdout)
    except json.JSONDecodeError:
        sys.exit(f"bench: {' '.join(args)} printed no JSON (exit {proc.returncode}); see {log}")


def stage_durations(deployment: dict) -> dict[str, float]:
    """Seconds per stage: each stage's completion time minus the previous one's (the first from started_at)."""
    previous = datetime.fromisoformat(deployment["started_at"].replace("Z", "+00:00"))
    out: dict[str, float] = {}
    for name, at in sorted(deployment["stages"].items(), key=lambda kv: kv[1]):
        done = datetime.fromisoformat(at.replace("Z", "+00:00"))
        out[name] = round((done - previous).total_seconds(), 3)
        previous = done
    return out


def registered_kinds(cwd: Path, env: dict[str, str], log: Path) -> tuple[str, ...]:
    """The artifact kinds from the engine's registry (``./release kinds``), never a list kept here."""
    return tuple(k["kind"] for k in run_json([str(RELEASE), "kinds", "--json"], cwd, env, log)["kinds"])


def row(deployment: dict, kinds: tuple[str, ...]) -> dict:
    stages = stage_durations(deployment)
    start = datetime.fromisoformat(deployment["started_at"].replace("Z", "+00:00"))
    end = datetime.fromisoformat(deployment["finished_at"].replace("Z", "+00:00"))
    per_kind = {kind: round(sum(s for n, s in stages.items() if n.startswith(f"deploy:{kind}:")), 3) for kind in kinds}
    gates = round(sum(s for n, s in stages.items() if n.startswith("gate:")), 3)
    return {"deployment": deployment["id"], "action": deployment["action"], "env": deployment["env"],
            "release": deployment["release_id"], "total_s": round((end - start).total_seconds(), 3),
            "gates_s": gates, "deploy_s": per_kind, "verify_s": stages.get("verify", 0.0)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--output", type=Path, default=REPO / "bench" / "results" / "release_timings.json")
    parser.add_argument("--from-workdir", type=Path, help="read a kept `./release demo --keep --workdir DIR` run "
                        "instead of running the demo again (its summary is then taken from DIR/demo.json if present)")
    opts = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-release-") as tmp:
        log = Path(tmp) / "demo.log"
        env = dict(os.environ)
        if opts.from_workdir:
            work = opts.from_workdir
            saved = work / "demo.json"
            demo = json.loads(saved.read_text()) if saved.is_file() else {}
        else:
            work = Path(tmp) / "demo"
            demo = run_json([str(RELEASE), "demo", "--json", "--keep", "--workdir", str(work)], REPO, env, log)
        history_env = {**env, "NORTHSTAR_STATE_DIR": str(work / "state"), "NORTHSTAR_RELEASE_NO_SETUP": "1"}
        history = run_json([str(RELEASE), "history", "--json"], work / "clone", history_env, log)
        kinds = registered_kinds(work / "clone", history_env, log)
    rows = [row(d, kinds) for d in reversed(history["deployments"])
            if d["status"] in ("succeeded", "rolled_back") and d["action"] in ("promote", "rollback")]
    to_prod = [r for r in rows if r["action"] == "promote" and r["env"] == "prod"]
    rollbacks = [r for r in rows if r["action"] == "rollback"]
    goals = {"promotion_staging_to_prod_s": to_prod[-1]["total_s"] if to_prod else None,
             "promotion_goal_s": PROMOTION_GOAL_S,
             "rollback_s": rollbacks[-1]["total_s"] if rollbacks else None, "rollback_goal_s": ROLLBACK_GOAL_S}
    summary = {
        "benchmark": "release_timings",
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "demo_ok": demo.get("ok"),
        "rollback": demo.get("rollback"),
        "deployments": rows,
        "goals": goals,
        "command": "python3 bench/release_timings.py",
    }
    opts.output.parent.mkdir(parents=True, exist_ok=True)
    opts.output.write_text(json.dumps(summary, indent=2) + "\n")

    header = f"{'#':>3} {'action':<9} {'env':<8} {'total':>7} {'gates':>7} " + " ".join(f"{k[:9]:>9}" for k in kinds)
    print("promotion and rollback wall times (seconds), per artifact kind's deploy stage; verify runs in parallel")
    print(header + f" {'verify':>7}")
    for r in rows:
        per_kind = " ".join(f"{r['deploy_s'][k]:>9.3f}" for k in kinds)
        print(f"{r['deployment']:>3} {r['action']:<9} {r['env']:<8} {r['total_s']:>7.2f} {r['gates_s']:>7.2f} {per_kind} "
              f"{r['verify_s']:>7.2f}")
    print(f"demo ok: {demo.get('ok')}; rollback: {json.dumps(demo.get('rollback'))}")
    print(f"staging -> prod promotion (last): {goals['promotion_staging_to_prod_s']} s (goal <= {PROMOTION_GOAL_S} s); "
          f"rollback: {goals['rollback_s']} s (goal <= {ROLLBACK_GOAL_S} s)")
    print(f"JSON written to {opts.output}")
    return 0 if demo.get("ok") else 1


if __name__ == "__main__":
    raise SystemExit(main())
