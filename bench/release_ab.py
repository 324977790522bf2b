#!/usr/bin/env python3
"""Benchmark: the whole demo release's staging -> prod promotion and prod rollback, engine code "base" vs "after".

Why this shape: issue 8's goals are about what a user waits for -- the ``./release promote`` / ``./release rollback``
process of the whole platform (5 kinds, 20 Spark jobs, 214 models, 10 gates), not one entry point. Identical runs on
the 2-core machine differ by up to a second, so the two codes run on two copies of the same state, alternating round
by round, and the table shows each side's median and range.

Input: a workdir kept by ``./release demo --keep --workdir W``. At its end staging runs the good change and prod runs
v1 (d1 rolled the good change back), so one round is: promote the staging release to prod, then roll prod back to
the release it ran before. Each side gets a copy of W's state and clone; the clone's engine packages
(``pipelines/northstar_*``) and the warehouse entry point (``dbt/northstar_dbt``, run from the exported ``dbt``
Python) come from the side's commit via ``git archive``; the other entry points are this checkout's
``dist/entrypoints`` for both sides. "after" runs first in every round.

    ./release demo --keep --workdir /tmp/demo          # once (about 20 min)
    python3 bench/release_ab.py --workdir /tmp/demo --base dd5badc [--after HEAD] [--rounds 4]
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import statistics
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "pipelines"))  # run as a plain script: the shared CLI driver is stdlib-only

from warehouse_promotion import (  # noqa: E402
    PROMOTION_GOAL_S,
    ROLLBACK_GOAL_S,
    code_at,
    exported_python,
    itemise,
    machine,
)

from northstar_release.cli_driver import ONCALL, OUTSIDE_FREEZE, ReleaseCli  # noqa: E402

CODE_DIRS = ("pipelines", "dbt/northstar_dbt", "dbt/northstar_dq")


class Side:
    """One copy of the demo's state and clone, running one commit's engine and warehouse entry point."""

    def __init__(self, label: str, ref: str, workdir: Path, root: Path, dbt_python: str, tools_python: str) -> None:
        self.label, self.root = label, root / label
        code = self.root / "code"
        self.commit = code_at(ref, code, CODE_DIRS)[1]
        shutil.copytree(workdir / "state", self.root / "state", symlinks=True)
        self.clone = self.root / "clone"
        shutil.copytree(workdir / "clone", self.clone, symlinks=True)
        for package in sorted((code / "pipelines").glob("northstar_*")):  # engine code only; the yaml stays the demo's
            shutil.rmtree(self.clone / "pipelines" / package.name, ignore_errors=True)
            shutil.copytree(package, self.clone / "pipelines" / package.name)
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("NORTHSTAR_")}
        self.env.update(NORTHSTAR_STATE_DIR=str(self.root / "state"), NORTHSTAR_NOW=OUTSIDE_FREEZE,
                        NORTHSTAR_RELEASE_NO_SETUP="1", NORTHSTAR_PYTHON=tools_python)
        for pex in sorted((REPO / "dist" / "entrypoints").glob("*.pex")):
            self.env["NORTHSTAR_ENTRYPOINT_" + pex.stem.upper().replace("-", "_")] = str(pex)
        pythonpath = os.pathsep.join([str(code / "dbt"), str(code / "pipelines")])
        self.env["NORTHSTAR_ENTRYPOINT_WAREHOUSE"] = shlex.join(
            ["env", f"PYTHONPATH={pythonpath}", dbt_python, "-m", "northstar_dbt.warehouse"])

    def cli(self, actor: str | None = None) -> ReleaseCli:
        # The clone's own ./release: its PYTHONPATH is the clone's pipelines/, i.e. this side's engine.
        return ReleaseCli(self.clone, self.env, release=self.clone / "release", actor=actor or ReleaseCli.actor)

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
    parser.add_argument("--base", required=True, help="commit whose engine and warehouse entry point are 'base'")
    parser.add_argument("--after", default="HEAD", help="the 'after' ref (default HEAD)")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--output", type=Path, default=REPO / "bench" / "results" / "release_ab.json")
    opts = parser.parse_args()
    if not (opts.workdir / "state").is_dir() or not (opts.workdir / "clone").is_dir():
        sys.exit(f"bench: {opts.workdir} is not a kept demo workdir (needs state/ and clone/): "
                 "run ./release demo --keep --workdir DIR")
    dbt_python, tools_python = exported_python("dbt"), exported_python("tools")
    root = Path(tempfile.mkdtemp(prefix="bench-release-ab-"))
    started = datetime.now(UTC).isoformat(timespec="seconds")
    rows: list[dict[str, Any]] = []
    try:
        sides = [Side(label, ref, opts.workdir, root, dbt_python, tools_python)
                 for label, ref in (("after", opts.after), ("base", opts.base))]
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
              "machine": machine(), "summary": table, "steps": rows,
              "goals": {"promotion_s": PROMOTION_GOAL_S, "rollback_s": ROLLBACK_GOAL_S},
              "command": f"python3 bench/release_ab.py --workdir DEMO --base {opts.base} --after {opts.after} "
                         f"--rounds {opts.rounds}"}
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
