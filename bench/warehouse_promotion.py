#!/usr/bin/env python3
"""Benchmark: warehouse promotion staging -> prod and prod rollback with the whole dbt project (214 models), before
and after the virtual update from SQLMesh state (``plan --from-env``).

Why this shape: the release engine switches the warehouse through ONE entry-point process per switch (``python -m
northstar_dbt.warehouse plan --env prod --apply --verify --pin ...``), and that process was the whole cost of a
warehouse promotion or rollback (the engine's own work is ~0.2 s). "before" runs the same command with the entry
point's code at ``--base`` (default: f935c4c, the base of this change; it loads the dbt project and re-runs every
audit), "after" runs this working tree's code with the ``--from-env keep_<env>_<sha12>`` argument the adapter now
passes for a digest a verified env pinned. Both use the same extracted project folders (dbt's partial-parse file
warm for both, as with the adapter's shared per-digest copy), the same warehouse and the same state.

Sequence (one warehouse): staging <- v1 (cold build, pin), prod <- v1 BEFORE, staging <- v2 (leaf change, pin),
prod <- v2 AFTER (promotion), prod <- v1 BEFORE (rollback), prod <- v2 AFTER, prod <- v1 AFTER (rollback).

    ./pants export --resolve=dbt                 # once: a Python with SQLMesh + dbt (dist/export/...)
    python3 bench/warehouse_promotion.py [--python PY] [--output bench/results/warehouse_promotion.json]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CODE_DIRS = ("dbt/northstar_dbt", "pipelines/northstar_contracts", "pipelines/northstar_synthetic")
LEAF_OLD = "as revenue\n"
LEAF_NEW = "as revenue,\n    count(*) * 2 as double_count\n"
LEAF_MODEL = "models/marts/fct_daily_revenue.sql"


def find_python(explicit: str | None) -> str:
    if explicit:
        return explicit
    found = sorted((REPO / "dist" / "export" / "python" / "virtualenvs" / "dbt").glob("*/bin/python"))
    if not found:
        sys.exit("bench: no Python with SQLMesh + dbt: run `./pants export --resolve=dbt` or pass --python")
    return str(found[-1])


def code_at(commit: str, dest: Path) -> Path:
    """The entry point's packages as they were at ``commit`` (git archive: the worktree is not touched)."""
    data = subprocess.run(["git", "-C", str(REPO), "archive", "--format=tar", commit, *CODE_DIRS],
                          check=True, capture_output=True).stdout
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        tar.extractall(dest, filter="data")
    return dest


def copy_project(dest: Path) -> Path:
    """The project files as the warehouse artifact holds them (no build output, engine files or Python package)."""
    shutil.copytree(REPO / "dbt", dest, ignore=shutil.ignore_patterns(
        "target", "logs", ".cache", "*.duckdb", "*.duckdb.wal", "__pycache__", "northstar_dbt", "northstar_dq",
        "packages", "BUILD", "README.md"))
    return dest


class Runner:
    def __init__(self, python: str, root: Path, warehouse: Path, state: Path) -> None:
        self.python, self.root, self.warehouse, self.state = python, root, warehouse, state
        self.log = root / "bench.log"

    def plan(self, code: Path, project: Path, env: str, *extra: str) -> tuple[dict, float]:
        environ = {**os.environ, "PYTHONPATH": os.pathsep.join([str(code / "dbt"), str(code / "pipelines")]),
                   "DBT_SEND_ANONYMOUS_USAGE_STATS": "false", "DO_NOT_TRACK": "1",
                   "SQLMESH__DISABLE_ANONYMIZED_ANALYTICS": "true"}
        args = [self.python, "-m", "northstar_dbt.warehouse", "plan", "--project", str(project),
                "--warehouse", str(self.warehouse), "--state", str(self.state), "--env", env, "--apply", "--verify",
                *extra]
        t0 = time.monotonic()
        with self.log.open("a") as err:
            proc = subprocess.run(args, env=environ, stdout=subprocess.PIPE, stderr=err, text=True, cwd=self.root)
        wall = round(time.monotonic() - t0, 2)
        try:
            payload = json.loads(proc.stdout.strip().splitlines()[-1])
        except (IndexError, json.JSONDecodeError):
            sys.exit(f"bench: plan {env} printed no JSON (exit {proc.returncode}); log {self.log}:\n"
                     f"{self.log.read_text()[-3000:]}")
        if proc.returncode != 0 or not payload.get("ok"):
            sys.exit(f"bench: plan {env} failed (exit {proc.returncode}): {payload.get('error')}; log {self.log}")
        return payload, wall


def row(step: str, code: str, payload: dict, wall: float) -> dict:
    verify = payload.get("verify") or {}
    return {"step": step, "code": code, "wall_s": wall, "timings": payload.get("timings", {}),
            "from_state": payload.get("from_state"), "virtual_update": payload.get("virtual_update"),
            "rows_recomputed": payload.get("rows_recomputed"), "audits_run": len(verify.get("audits") or []),
            "audits_skipped": bool(verify.get("audits_skipped")), "verify_s": verify.get("seconds")}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--python", help="a Python with sqlmesh + dbt-duckdb (default: the Pants export of the dbt resolve)")
    parser.add_argument("--base", default="f935c4c", help="commit whose entry point is 'before' (default f935c4c)")
    parser.add_argument("--output", type=Path, default=REPO / "bench" / "results" / "warehouse_promotion.json")
    opts = parser.parse_args()
    python = find_python(opts.python)
    with tempfile.TemporaryDirectory(prefix="bench-wh-promotion-") as tmp:
        root = Path(tmp)
        before, after = code_at(opts.base, root / "code-before"), REPO
        v1 = copy_project(root / "v1")
        v2 = copy_project(root / "v2")
        leaf = v2 / LEAF_MODEL
        if LEAF_OLD not in leaf.read_text():
            sys.exit(f"bench: the leaf edit no longer applies to {LEAF_MODEL}")
        leaf.write_text(leaf.read_text().replace(LEAF_OLD, LEAF_NEW, 1))
        models = len(list((v1 / "models").rglob("*.sql")))
        run = Runner(python, root, root / "wh" / "warehouse.duckdb", root / "wh" / "sqlmesh_state.duckdb")
        rows = []

        def step(label: str, code: str, project: Path, env: str, *extra: str) -> None:
            payload, wall = run.plan(before if code == "before" else after, project, env, *extra)
            rows.append(row(label, code, payload, wall))
            print(f"  {label:<44} {code:<6} {wall:7.2f} s  load {os.getloadavg()[0]:.2f}", flush=True)  # noqa: T201

        step("setup: staging <- v1 (cold build)", "after", v1, "staging", "--pin", "staging_v1")
        step("promote staging -> prod (v1)", "before", v1, "prod", "--pin", "prod_v1")
        step("setup: staging <- v2 (leaf change)", "after", v2, "staging", "--pin", "staging_v2")
        step("promote staging -> prod (v2)", "after", v2, "prod", "--pin", "prod_v2", "--from-env", "keep_staging_v2")
        step("rollback prod -> v1", "before", v1, "prod", "--virtual-only")
        step("setup: prod <- v2 again", "after", v2, "prod", "--from-env", "keep_prod_v2")
        step("rollback prod -> v1", "after", v1, "prod", "--virtual-only", "--from-env", "keep_prod_v1")

    result = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform(),
                    "loadavg_end": [round(x, 2) for x in os.getloadavg()]},
        "models": models, "base": opts.base, "steps": rows,
        "command": "python3 bench/warehouse_promotion.py",
    }
    opts.output.parent.mkdir(parents=True, exist_ok=True)
    opts.output.write_text(json.dumps(result, indent=2) + "\n")
    print(f"\n{models} dbt models; wall seconds of the warehouse entry point (one process per switch)")  # noqa: T201
    print(f"{'step':<44} {'code':<6} {'wall':>7} {'load/config':>11} {'audits':>7} {'rows':>5} from_state")  # noqa: T201
    for r in rows:
        t = r["timings"]
        load = t.get("load_s", t.get("config_s"))
        print(f"{r['step']:<44} {r['code']:<6} {r['wall_s']:7.2f} {load!s:>11} "  # noqa: T201
              f"{'skip' if r['audits_skipped'] else r['audits_run']:>7} {r['rows_recomputed']!s:>5} {r['from_state']}")
    print(f"written {opts.output}")  # noqa: T201
    return 0


if __name__ == "__main__":
    sys.exit(main())
