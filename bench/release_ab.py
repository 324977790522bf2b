#!/usr/bin/env python3
"""Benchmark: the whole demo release's staging -> prod promotion and prod rollback, this checkout vs a base checkout.

Why this shape: issue 8's goals are about what a user waits for -- the ``./release promote`` / ``./release rollback``
process of the whole platform (5 kinds, 20 Spark jobs, 214 models, 10 gates), not one entry point. Identical runs on
the 2-core machine differ by a second or more, so the two checkouts run on two copies of the same state, alternating
round by round, and the table shows each side's median and range.

Input: a workdir kept by ``./release demo --keep --workdir W``. At its end staging runs the good change and prod runs
v1 (d1 rolled the good change back), so one round is: promote the staging release to prod, then roll prod back to
the release it ran before. Each side runs its own checkout's ``./release`` (engine, wrapper and ``dist/entrypoints``,
exactly as the demo runs the origin's) on its own copy of W's state and clone. "after" runs first in every round.

    ./release demo --keep --workdir /tmp/demo                      # once (about 20 min)
    git worktree add /tmp/base <commit> && (cd /tmp/base && ./release status)   # its entry points and Python
    python3 bench/release_ab.py --workdir /tmp/demo --base-checkout /tmp/base [--rounds 4]
    python3 bench/release_ab.py --workdir /tmp/demo --base-checkout . --base-env NORTHSTAR_EARLY_WARM_START=0
        # one checkout, with and without a setting
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "pipelines"))  # run as a plain script: the shared CLI driver is stdlib-only

from warehouse_promotion import PROMOTION_GOAL_S, ROLLBACK_GOAL_S, itemise, machine  # noqa: E402

from northstar_release.cli_driver import ONCALL, OUTSIDE_FREEZE, ReleaseCli  # noqa: E402


class Side:
    """One copy of the demo's state and clone, driven by one checkout's ``./release``."""

    def __init__(self, label: str, checkout: Path, workdir: Path, root: Path, extra_env: dict[str, str]) -> None:
        self.label, self.root, self.checkout = label, root / label, checkout
        self.commit = subprocess.run(["git", "-C", str(checkout), "rev-parse", "HEAD"], check=True,
                                     capture_output=True, text=True).stdout.strip()
        self.dirty = bool(subprocess.run(["git", "-C", str(checkout), "status", "--porcelain", "--untracked-files=no"],
                                         check=True, capture_output=True, text=True).stdout.strip())
        if not any((checkout / "dist" / "entrypoints").glob("*.pex")):
            sys.exit(f"bench: {checkout} has no dist/entrypoints: run ./release status there first")
        shutil.copytree(workdir / "state", self.root / "state", symlinks=True)
        self.clone = self.root / "clone"
        shutil.copytree(workdir / "clone", self.clone, symlinks=True)
        # The checkout's ./release picks its own tools Python and entry points when no NORTHSTAR_ variable says
        # otherwise; set-up was done beforehand (NO_SETUP), as the demo does.
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("NORTHSTAR_")}
        self.env.update(NORTHSTAR_STATE_DIR=str(self.root / "state"), NORTHSTAR_NOW=OUTSIDE_FREEZE,
                        NORTHSTAR_RELEASE_NO_SETUP="1", **extra_env)

    def cli(self, actor: str | None = None) -> ReleaseCli:
        return ReleaseCli(self.clone, self.env, release=self.checkout / "release", actor=actor or ReleaseCli.actor)

    def live(self, env: str) -> str:
        doc = self.cli().must("status")
        ids = {a.get("release_id") for a in doc["environments"][env]["artifacts"].values()}
        if len(ids) != 1:
            sys.exit(f"bench: {env} does not run exactly one release in {self.root}: {sorted(map(str, ids))}")
        return str(ids.pop())

    def timed(self, step: str, *args: str, actor: str | None = None) -> dict[str, Any]:
        load = os.getloadavg()[0]
        call = self.cli(actor).call(*args)
        if call.exit_code != 0 or call.doc is None:
            sys.exit(f"bench: {self.label}: ./release {' '.join(args)} failed: {call.describe_failure()}")
        row = itemise(step, self.label, call.seconds, load, call.doc)
        print(f"  {step:<22} {self.label:<6} {call.seconds:7.2f} s  load {load:.1f}", flush=True)  # noqa: T201
        return row


def summary(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for step in dict.fromkeys(r["step"] for r in rows):
        for code in dict.fromkeys(r["code"] for r in rows):
            walls = [r["wall_s"] for r in rows if r["step"] == step and r["code"] == code]
            out.append({"step": step, "code": code, "runs": len(walls), "median_s": round(statistics.median(walls), 2),
                        "min_s": min(walls), "max_s": max(walls)})
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workdir", type=Path, required=True, help="a workdir kept by ./release demo --keep")
    parser.add_argument("--base-checkout", type=Path, required=True,
                        help="a checkout of the 'base' commit with its entry points built (./release status there)")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--base-env", action="append", default=[], metavar="NAME=VALUE",
                        help="an environment variable for the base side only (repeatable); with --base-checkout . "
                             "this compares one checkout with and without a setting, e.g. NORTHSTAR_EARLY_WARM_START=0")
    parser.add_argument("--output", type=Path, default=REPO / "bench" / "results" / "release_ab.json")
    opts = parser.parse_args()
    if not (opts.workdir / "state").is_dir() or not (opts.workdir / "clone").is_dir():
        sys.exit(f"bench: {opts.workdir} is not a kept demo workdir (needs state/ and clone/): "
                 "run ./release demo --keep --workdir DIR")
    bad = [e for e in opts.base_env if "=" not in e or not e.split("=", 1)[0]]
    if bad:
        sys.exit(f"bench: --base-env expects NAME=VALUE, got {', '.join(bad)}")
    base_env = dict(e.split("=", 1) for e in opts.base_env)
    root = Path(tempfile.mkdtemp(prefix="bench-release-ab-"))
    started = datetime.now(UTC).isoformat(timespec="seconds")
    rows: list[dict[str, Any]] = []
    try:
        sides = [Side(label, checkout.resolve(), opts.workdir, root, extra)
                 for label, checkout, extra in (("after", REPO, {}), ("base", opts.base_checkout, base_env))]
        candidate, known_good = sides[0].live("staging"), sides[0].live("prod")
        print(f"promote {candidate} -> prod, roll back to {known_good}; {opts.rounds} round(s)", flush=True)  # noqa: T201
        for _ in range(opts.rounds):
            for side in sides:
                rows.append(side.timed("promote staging->prod", "promote", candidate, "--to", "prod"))
                rows.append(side.timed("rollback prod", "rollback", "--env", "prod", "--to", known_good,
                                       "--reason", "bench", actor=ONCALL))
    finally:
        shutil.rmtree(root, ignore_errors=True)
    table = summary(rows)
    result = {"benchmark": "release_ab", "started": started, "finished": datetime.now(UTC).isoformat(timespec="seconds"),
              "workdir": str(opts.workdir), "base": sides[1].commit, "after": sides[0].commit,
              "uncommitted_changes": {side.label: side.dirty for side in sides}, "base_env": base_env,
              "machine": machine(), "summary": table, "steps": rows,
              "goals": {"promotion_s": PROMOTION_GOAL_S, "rollback_s": ROLLBACK_GOAL_S},
              "command": "python3 bench/release_ab.py --workdir DEMO --base-checkout BASE "
                         + "".join(f"--base-env {k}={v} " for k, v in base_env.items()) + f"--rounds {opts.rounds}"}
    opts.output.parent.mkdir(parents=True, exist_ok=True)
    opts.output.write_text(json.dumps(result, indent=2) + "\n")
    print(f"\n{'step':<22} {'code':<6} {'runs':>4} {'median':>7} {'min':>6} {'max':>6}  (wall of ./release, s)")  # noqa: T201
    for r in table:
        print(f"{r['step']:<22} {r['code']:<6} {r['runs']:>4} {r['median_s']:7.2f} {r['min_s']:6.2f} "  # noqa: T201
              f"{r['max_s']:6.2f}")
    print(f"goals: promotion <= {PROMOTION_GOAL_S} s, rollback <= {ROLLBACK_GOAL_S} s; written {opts.output}")  # noqa: T201
    return 0


if __name__ == "__main__":
    sys.exit(main())
