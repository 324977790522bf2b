#!/usr/bin/env python3
"""Benchmark: staging -> prod promotion and prod rollback of the 214-model warehouse THROUGH ``./release``.

Why this shape: what a user waits for is the ``./release promote`` / ``./release rollback`` process (interpreter
start-up, state, recovery's ``serving`` check, gates, the switch, verification, audit records), not one entry-point
call. The bench drives the real CLI (``northstar_release.cli_driver``, as the demo does) on a throwaway repository
holding this checkout's dbt project (all models) and environments file, so every warehouse step runs at today's
platform size. Only the warehouse kind is in the releases: the other kinds' switches are skipped when their digest
is unchanged (ADR 0006), so a promotion or rollback of a dbt change costs what the warehouse costs.

"before" and "after" differ only in the warehouse entry point's code, given to the engine through
``NORTHSTAR_ENTRYPOINT_WAREHOUSE`` (``env PYTHONPATH=<code> <python> -m northstar_dbt.warehouse``): ``--base``
(default 3c7b45b) and ``--after`` (default HEAD), each taken with ``git archive`` when it is needed, so the worktree
can keep changing while the set-up runs. Same state, same warehouse, same release. "after" runs FIRST (the second
promotion of the same release finds its prod pin already made: an advantage given to "before").

Sequence: v1 -> dev -> staging -> prod; v2 (leaf change to a finance mart, acknowledged) -> dev -> staging (set-up,
"after" code); then timed: promote v2 -> prod, rollback prod -> v1 (after); the same two (before).

    ./pants export --resolve=dbt --resolve=tools    # once: Pythons with SQLMesh + dbt and with the release tool
    python3 bench/warehouse_promotion.py [--base 3c7b45b] [--after HEAD] [--output bench/results/warehouse_promotion.json]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import shlex
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "pipelines"))  # run as a plain script: the shared CLI driver is stdlib-only

from northstar_release.cli_driver import (  # noqa: E402
    APPROVER,
    AUTHOR,
    ONCALL,
    OUTSIDE_FREEZE,
    ReleaseCli,
    commit_all,
    git,
)

CODE_DIRS = ("dbt/northstar_dbt", "dbt/northstar_dq", "pipelines/northstar_contracts", "pipelines/northstar_synthetic")
LEAF_OLD = "as revenue\n"
LEAF_NEW = "as revenue,\n    count(*) * 2 as double_count\n"
LEAF_MODEL = "dbt/models/marts/fct_daily_revenue.sql"
PROMOTION_GOAL_S, ROLLBACK_GOAL_S = 10.0, 5.0  # issue 8 (the demo's hard budget for the rollback is 10 s)


def exported_python(resolve: str) -> str:
    for root in (REPO, Path("/work/main")):
        found = sorted((root / "dist" / "export" / "python" / "virtualenvs" / resolve).glob("*/bin/python"))
        if found:
            return str(found[-1])
    sys.exit(f"bench: no exported '{resolve}' Python: run `./pants export --resolve={resolve}`")


def code_at(ref: str, dest: Path) -> tuple[Path, str]:
    """The entry point's packages at ``ref`` (git archive: the worktree is not touched); returns (dir, commit)."""
    commit = subprocess.run(["git", "-C", str(REPO), "rev-parse", ref], check=True, capture_output=True,
                            text=True).stdout.strip()
    data = subprocess.run(["git", "-C", str(REPO), "archive", "--format=tar", commit, *CODE_DIRS],
                          check=True, capture_output=True).stdout
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        tar.extractall(dest, filter="data")
    return dest, commit


def machine() -> dict[str, Any]:
    """What a figure depends on besides the code: cores, Python, kernel, load when the run ended."""
    return {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform(),
            "loadavg_end": [round(x, 2) for x in os.getloadavg()]}


def make_repo(root: Path) -> Path:
    """A throwaway repository: this checkout's dbt project, DAGs and legacy DAGs with their exemptions (committed files
    only), pipelines/*.yaml and the pipeline catalog (the DAG check matches them with the DAGs) and the secret-scan
    baseline (the artifact scan reads it)."""
    repo = root / "repo"
    files = subprocess.run(["git", "-C", str(REPO), "ls-files", "dbt", "airflow/dags", "legacy/legacy_dags",
                            "legacy/dag_exemptions.yaml", "pipelines/*.yaml", "pipelines/catalog", ".secrets.baseline"],
                           check=True, capture_output=True, text=True).stdout.split()
    for rel in files:
        if rel.startswith(("dbt/northstar_dbt/", "dbt/northstar_dq/")):
            continue
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / rel, repo / rel)
    git(repo, "init", "-q", "-b", "main")
    commit_all(repo, "v1", AUTHOR)
    return repo


class Bench:
    def __init__(self, root: Path, repo: Path, dbt_python: str, tools_python: str) -> None:
        self.root, self.repo, self.dbt_python = root, repo, dbt_python
        self.log = root / "bench.log"
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("NORTHSTAR_")}
        self.env.update(NORTHSTAR_STATE_DIR=str(root / "state"), NORTHSTAR_NOW=OUTSIDE_FREEZE,
                        NORTHSTAR_RELEASE_NO_SETUP="1", NORTHSTAR_PYTHON=tools_python,
                        # the dev deploy's check builds all models and runs every audit on a scratch warehouse
                        NORTHSTAR_COMPONENT_TIMEOUT_S=os.environ.get("NORTHSTAR_COMPONENT_TIMEOUT_S", "3600"))
        self.rows: list[dict[str, Any]] = []
        # The DAG bundle is checked in dev (DagBag) and by integrity later: the exported airflow Python runs the check.
        airflow = exported_python("airflow")
        self.env["NORTHSTAR_ENTRYPOINT_DAGBAG_CHECK"] = shlex.join(
            ["env", f"PYTHONPATH={REPO / 'airflow'}{os.pathsep}{REPO / 'pipelines'}", airflow, "-m",
             "northstar_airflow.dagbag_check"])

    def use_code(self, code: Path) -> None:
        pythonpath = os.pathsep.join([str(code / "dbt"), str(code / "pipelines")])
        self.env["NORTHSTAR_ENTRYPOINT_WAREHOUSE"] = shlex.join(
            ["env", f"PYTHONPATH={pythonpath}", self.dbt_python, "-m", "northstar_dbt.warehouse"])

    def cli(self, actor: str = AUTHOR) -> ReleaseCli:
        def note(line: str) -> None:
            with self.log.open("a") as fh:
                fh.write(line + "\n")
        return ReleaseCli(self.repo, self.env, actor=actor, on_stderr=note)

    def must(self, *args: str, actor: str = AUTHOR) -> dict[str, Any]:
        t0 = time.monotonic()
        doc = self.cli(actor).must(*args)
        print(f"  set-up ./release {' '.join(args)}: {time.monotonic() - t0:.1f} s  "  # noqa: T201
              f"load {os.getloadavg()[0]:.1f}", flush=True)
        return doc

    def build(self, label: str) -> str:
        rid = str(self.must("build", "--ack-breaking", "fct_daily_revenue")["release"]["id"])
        print(f"  {label} = {rid}", flush=True)  # noqa: T201
        return rid

    def timed(self, step: str, code: str, *args: str, actor: str = AUTHOR) -> None:
        load = os.getloadavg()[0]
        call = self.cli(actor).call(*args)
        if call.exit_code != 0 or call.doc is None:
            sys.exit(f"bench: ./release {' '.join(args)} failed: {call.describe_failure()}; log {self.log}")
        self.rows.append(itemise(step, code, call.seconds, load, call.doc))
        print(f"  {step:<28} {code:<6} {call.seconds:7.2f} s  load {load:.1f}", flush=True)  # noqa: T201


def warehouse_evidence(doc: dict[str, Any]) -> dict[str, Any]:
    """The warehouse switch's evidence in a promote/rollback document (timings, from_state, rows)."""
    found: dict[str, Any] = {}

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            if "sqlmesh_environment" in value and "timings" in value:
                found.update(value)
                return
            for v in value.values():
                walk(v)
        elif isinstance(value, list):
            for v in value:
                walk(v)
    walk(doc)
    return found


def itemise(step: str, code: str, wall: float, load: float, doc: dict[str, Any]) -> dict[str, Any]:
    ev = warehouse_evidence(doc)
    timing = doc.get("timing") or {}
    return {"step": step, "code": code, "wall_s": round(wall, 2), "load_1m": round(load, 2),
            "engine_s": timing.get("engine_s"), "component_s": timing.get("component_s"),
            "switch_timings": ev.get("timings"), "from_state": ev.get("from_state"),
            "state_fallback": ev.get("state_fallback"), "rows_recomputed": ev.get("rows_recomputed"),
            "status": doc.get("status")}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base", default="3c7b45b", help="commit whose warehouse entry point is 'before'")
    parser.add_argument("--after", default="HEAD", help="ref whose entry point is 'after' (resolved when needed)")
    parser.add_argument("--output", type=Path, default=REPO / "bench" / "results" / "warehouse_promotion.json")
    parser.add_argument("--keep", type=Path, help="work in this folder and keep it (default: a temp dir)")
    opts = parser.parse_args()
    dbt_python, tools_python = exported_python("dbt"), exported_python("tools")
    root = opts.keep or Path(tempfile.mkdtemp(prefix="bench-wh-release-"))
    root.mkdir(parents=True, exist_ok=True)
    started = datetime.now(UTC).isoformat(timespec="seconds")
    try:
        repo = make_repo(root)
        models = len(list((repo / "dbt" / "models").rglob("*.sql")))
        bench = Bench(root, repo, dbt_python, tools_python)
        setup_code, setup_commit = code_at(opts.after, root / "code-setup")
        bench.use_code(setup_code)
        print(f"{models} dbt models; set-up with the entry point at {setup_commit[:12]} (log {bench.log})")  # noqa: T201
        v1 = bench.build("v1")
        bench.must("deploy", v1, "--env", "dev")
        bench.must("promote", v1, "--to", "staging")
        # the lineage tags the finance marts: prod needs two approvers other than the author
        for approver in (APPROVER, ONCALL):
            bench.must("approve", v1, "--env", "prod", actor=approver)
        bench.must("promote", v1, "--to", "prod")
        leaf = repo / LEAF_MODEL
        if LEAF_OLD not in leaf.read_text():
            sys.exit(f"bench: the leaf edit no longer applies to {LEAF_MODEL}")
        leaf.write_text(leaf.read_text().replace(LEAF_OLD, LEAF_NEW, 1))
        commit_all(repo, "v2: leaf column on the finance mart", AUTHOR)
        v2 = bench.build("v2")
        bench.must("deploy", v2, "--env", "dev")
        bench.must("promote", v2, "--to", "staging")
        for approver in (APPROVER, ONCALL):
            bench.must("approve", v2, "--env", "prod", actor=approver)
        after, after_commit = code_at(opts.after, root / "code-after")
        before, base_commit = code_at(opts.base, root / "code-before")
        for code, label in ((after, "after"), (before, "before")):
            bench.use_code(code)
            bench.timed("promote v2 staging -> prod", label, "promote", v2, "--to", "prod")
            bench.timed("rollback prod -> v1", label, "rollback", "--env", "prod", "--to", v1, "--reason", "bench",
                        actor=ONCALL)
    finally:
        if not opts.keep:
            shutil.rmtree(root, ignore_errors=True)
    result = {"benchmark": "warehouse_promotion", "started": started,
              "finished": datetime.now(UTC).isoformat(timespec="seconds"), "models": models,
              "base": base_commit, "after": after_commit,
              "machine": machine(), "steps": bench.rows, "goals": {"promotion_s": PROMOTION_GOAL_S, "rollback_s": ROLLBACK_GOAL_S},
              "command": "python3 bench/warehouse_promotion.py"}
    opts.output.parent.mkdir(parents=True, exist_ok=True)
    opts.output.write_text(json.dumps(result, indent=2) + "\n")
    print(f"\n{models} dbt models, through ./release (wall of the CLI process); switch = the warehouse entry "  # noqa: T201
          f"point's own timings")
    print(f"{'step':<28} {'code':<6} {'wall':>7} {'load':>5} {'engine':>7} {'comps':>7}  switch timings")  # noqa: T201
    for r in bench.rows:
        print(f"{r['step']:<28} {r['code']:<6} {r['wall_s']:7.2f} {r['load_1m']:5.1f} {r['engine_s']!s:>7} "  # noqa: T201
              f"{r['component_s']!s:>7}  {r['switch_timings']} from_state={r['from_state']}")
    print(f"written {opts.output}")  # noqa: T201
    return 0


if __name__ == "__main__":
    sys.exit(main())
