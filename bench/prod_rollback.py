#!/usr/bin/env python3
"""Benchmark: the demo's whole-platform prod rollback (d1), repeated on the demo's own state, engine vs engine.

Why a benchmark and not a timed test: wall times depend on the machine and its load. This script prints a table and
writes JSON so the figure can be reproduced:

    ./release demo --keep --workdir /tmp/demo          # once: the platform's v1 and good release, 214 models
    python3 bench/prod_rollback.py --workdir /tmp/demo [--rounds 5] [--before /path/to/older/checkout]

What one round is: the kept state (the good release live in prod, v1 known-good) is restored from a copy taken once,
then ``./release rollback --env prod --to <v1>`` runs exactly as the demo's step d1 runs it (same actor, clock and
entry points) and its wall time, the CLI's own engine/component split and the warehouse switch's itemised timings
are recorded. With ``--before CHECKOUT`` the same rounds also run with that checkout's ``./release`` and its
``dist/entrypoints`` (build them there first: ``./pants package dbt:warehouse infra:infra_check
spark:spark_verify airflow:dagbag_check``), alternating with this checkout round by round, so both see the same load.

Set-up (first run on a workdir): the demo leaves v1 live in prod after d1; the good release is promoted to prod once
more (its approvals are already recorded) and the state is copied to ``<workdir>/bench-snapshot``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "pipelines"))  # run as a plain script: the shared CLI driver is stdlib-only

from northstar_release.cli_driver import ONCALL, OUTSIDE_FREEZE  # noqa: E402

DEMO_AUTHOR = "dev@northstar.example"  # the demo releases' author (demo/edits.py): the one who promotes them

SNAPSHOT = "bench-snapshot"


def cli_env(checkout: Path, state: Path) -> dict[str, str]:
    """The environment the demo gives every ./release call, with ``checkout``'s entry points."""
    env = {**os.environ, "NORTHSTAR_STATE_DIR": str(state), "NORTHSTAR_NOW": OUTSIDE_FREEZE,
           "NORTHSTAR_RELEASE_NO_SETUP": "1"}
    for pex in sorted((checkout / "dist" / "entrypoints").glob("*.pex")):
        env["NORTHSTAR_ENTRYPOINT_" + pex.stem.upper().replace("-", "_").replace(".", "_")] = str(pex)
    return env


def release(checkout: Path, workdir: Path, actor: str, *args: str) -> tuple[int, dict[str, Any], float, str]:
    started = time.monotonic()
    proc = subprocess.run([str(checkout / "release"), "--as", actor, *args, "--json"], cwd=workdir / "clone",
                          env=cli_env(checkout, workdir / "state"), capture_output=True, text=True, timeout=1800)
    wall = time.monotonic() - started
    try:
        doc = json.loads(proc.stdout)
    except json.JSONDecodeError:
        doc = {}
    return proc.returncode, doc, wall, proc.stderr[-2000:]


def releases(workdir: Path) -> tuple[str, str]:
    """(v1, good) release ids: the demo's two audit exports; v1's commit is the good release's parent line."""
    ids = sorted(p.stem.removeprefix("audit-") for p in workdir.glob("audit-rel-*.md"))
    if len(ids) != 2:
        raise SystemExit(f"{workdir}: expected the demo's two audit exports (audit-rel-*.md); run "
                         "`./release demo --keep --workdir DIR` first")
    a, b = (i.removeprefix("rel-") for i in ids)
    older = subprocess.run(["git", "-C", str(workdir / "clone"), "merge-base", "--is-ancestor", a, b],
                           capture_output=True).returncode == 0
    return (ids[0], ids[1]) if older else (ids[1], ids[0])


def snapshot(workdir: Path, v1: str, good: str) -> Path:
    snap = workdir / SNAPSHOT
    if snap.is_dir():
        return snap
    code, doc, wall, err = release(REPO, workdir, DEMO_AUTHOR, "promote", good, "--to", "prod")
    if code != 0:
        raise SystemExit(f"promoting {good} back to prod failed (exit {code}): {doc.get('reasons') or err}")
    print(f"set-up: {good} promoted to prod again in {wall:.1f}s; state copied to {snap}", file=sys.stderr)
    snap.mkdir()
    shutil.copytree(workdir / "state", snap / "state", symlinks=True)
    return snap


def restore(workdir: Path, snap: Path) -> None:
    shutil.rmtree(workdir / "state")
    shutil.copytree(snap / "state", workdir / "state", symlinks=True)


def one_round(checkout: Path, workdir: Path, v1: str) -> dict[str, Any]:
    code, doc, wall, err = release(checkout, workdir, ONCALL, "rollback", "--env", "prod", "--to", v1,
                                   "--reason", "bench: prod rollback")
    if code != 0 or doc.get("status") != "succeeded":
        raise SystemExit(f"rollback with {checkout} failed (exit {code}): {doc.get('reasons') or err}")
    warehouse: dict[str, Any] = next((s for s in doc.get("switches") or [] if s.get("kind") == "warehouse_project"), {})
    return {"wall_s": round(wall, 3), **(doc.get("timing") or {}),
            "warehouse": (warehouse.get("evidence") or {}).get("timings"),
            "rows_recomputed": (warehouse.get("evidence") or {}).get("rows_recomputed")}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workdir", type=Path, required=True, help="a `./release demo --keep --workdir` directory")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--before", type=Path, help="another checkout (with built dist/entrypoints) to compare with")
    parser.add_argument("--output", type=Path, default=REPO / "bench" / "results" / "prod_rollback.json")
    args = parser.parse_args()
    workdir = args.workdir.resolve()
    snap = workdir / SNAPSHOT
    if snap.is_dir():
        restore(workdir, snap)
    v1, good = releases(workdir)
    snap = snapshot(workdir, v1, good)
    engines = {"after": REPO, **({"before": args.before.resolve()} if args.before else {})}
    rounds: dict[str, list[dict[str, Any]]] = {name: [] for name in engines}
    for i in range(args.rounds):
        for name, checkout in engines.items():
            restore(workdir, snap)
            load = os.getloadavg()[0]
            r = one_round(checkout, workdir, v1)
            r["load_1m"] = round(load, 2)
            rounds[name].append(r)
            print(f"round {i + 1} {name}: {r['wall_s']:.2f}s wall (load {load:.2f})", file=sys.stderr)
    restore(workdir, snap)
    print(f"\nprod rollback {good} -> {v1} ({args.rounds} rounds, {platform.node()}, {os.cpu_count()} cores)")
    print(f"{'engine':<8} {'median wall s':>14} {'min':>7} {'max':>7} {'median engine s':>16} {'median component s':>19}")
    summary: dict[str, Any] = {}
    for name, rs in rounds.items():
        walls = [r["wall_s"] for r in rs]
        summary[name] = {"median_wall_s": statistics.median(walls), "min_wall_s": min(walls),
                         "max_wall_s": max(walls),
                         "median_engine_s": statistics.median(r.get("engine_s") or 0 for r in rs),
                         "median_component_s": statistics.median(r.get("component_s") or 0 for r in rs)}
        s = summary[name]
        print(f"{name:<8} {s['median_wall_s']:>14.2f} {s['min_wall_s']:>7.2f} {s['max_wall_s']:>7.2f} "
              f"{s['median_engine_s']:>16.2f} {s['median_component_s']:>19.2f}")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps({
        "benchmark": "prod_rollback", "at": datetime.now(UTC).isoformat(), "host": platform.node(),
        "cpus": os.cpu_count(), "from": good, "to": v1, "engines": {k: str(v) for k, v in engines.items()},
        "summary": summary, "rounds": rounds}, indent=2) + "\n")
    print(f"\nJSON: {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
