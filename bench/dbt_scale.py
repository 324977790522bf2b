#!/usr/bin/env python3
"""Benchmark: the 200+ model dbt project through SQLMesh (cold dev build, then staging and prod promotions) next to
`dbt build` of the same models, in the same run, on the same bronze data.

Why this shape: the release engine deploys the warehouse through the warehouse entry point
(``python -m northstar_dbt.warehouse plan --env ENV --apply``), one process per deployment, so that is what is timed
here: project load + plan + apply, as the engine sees it. A dev deploy of a new project builds every model (cold);
promoting the same project to staging and prod must be a virtual update (0 rows recomputed). plain dbt has no
virtual promotion: deploying to another environment is another full `dbt build`, timed once here as the baseline.

    ./pants export --resolve=dbt                 # once: a Python with SQLMesh + dbt (dist/export/...)
    python3 bench/dbt_scale.py [--orders 300] [--output bench/results/dbt_scale.json]

Both runners start from a copy of the same bronze DuckDB file (generated once, outside the timings).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PYTHONPATH = os.pathsep.join([str(REPO / "dbt"), str(REPO / "pipelines")])

DBT_WORKER = """
import json, sys, time
from dbt.cli.main import dbtRunner
project, target = sys.argv[1], sys.argv[2]
t0 = time.monotonic()
res = dbtRunner().invoke(["build", "--project-dir", project, "--profiles-dir", project, "--target", "duckdb",
                          "--target-path", target + "/target", "--log-path", target + "/logs", "--quiet"])
kinds = {}
failed = []
for r in res.result or []:
    kind = r.node.unique_id.split(".")[0]
    kinds[kind] = kinds.get(kind, 0) + 1
    if str(r.status) not in ("success", "pass"):
        failed.append(r.node.unique_id)
print(json.dumps({"ok": bool(res.success), "seconds": round(time.monotonic() - t0, 2), "nodes": kinds, "failed": failed}))
"""

BRONZE_WORKER = """
import sys
from pathlib import Path
import duckdb
from northstar_dbt.bronze import ensure_bronze
con = duckdb.connect(sys.argv[1])
ensure_bronze(con, orders=int(sys.argv[2]), days=int(sys.argv[3]))
print(con.execute("select sum(estimated_size) from duckdb_tables() where schema_name = 'bronze'").fetchone()[0])
"""


def find_python(explicit: str | None) -> str:
    if explicit:
        return explicit
    found = sorted((REPO / "dist" / "export" / "python" / "virtualenvs" / "dbt").glob("*/bin/python"))
    if not found:
        sys.exit("bench: no Python with SQLMesh + dbt: run `./pants export --resolve=dbt` or pass --python")
    return str(found[-1])


def run(python: str, args: list[str], env: dict[str, str], log: Path) -> tuple[dict, float]:
    """Run a worker in the scratch dir (never the repo root, whose dbt/ folder would shadow the dbt package)."""
    t0 = time.monotonic()
    with log.open("a") as err:
        proc = subprocess.run([python, *args], env=env, stdout=subprocess.PIPE, stderr=err, text=True, cwd=log.parent)
    wall = round(time.monotonic() - t0, 2)
    lines = proc.stdout.strip().splitlines()
    try:
        return json.loads(lines[-1]), wall
    except (IndexError, json.JSONDecodeError):
        tail = log.read_text()[-3000:]
        sys.exit(f"bench: {' '.join(args[:4])[:200]} printed no JSON (exit {proc.returncode}); log tail:\n{tail}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--python", help="a Python with sqlmesh + dbt-duckdb (default: the Pants export of the dbt resolve)")
    parser.add_argument("--orders", type=int, default=300, help="bronze size knob (synthetic orders; default 300)")
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--output", type=Path, default=REPO / "bench" / "results" / "dbt_scale.json")
    parser.add_argument("--project", type=Path, default=REPO / "dbt",
                        help="the dbt project to measure (default: this repository's dbt/; bench/platform_scale.py "
                             "passes a scaled copy's)")
    opts = parser.parse_args()
    python = find_python(opts.python)
    env = {**os.environ, "PYTHONPATH": PYTHONPATH, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false", "DO_NOT_TRACK": "1",
           "SQLMESH__DISABLE_ANONYMIZED_ANALYTICS": "true"}
    with tempfile.TemporaryDirectory(prefix="bench-dbt-scale-") as tmp:
        root, log = Path(tmp), Path(tmp) / "bench.log"
        # The project files as the warehouse artifact holds them (northstar_dbt.project.copy_project's rules; not
        # imported: that package lives in the dbt resolve, this script in tools).
        project = root / "project"
        shutil.copytree(opts.project, project, ignore=shutil.ignore_patterns(
            "target", "logs", ".cache", "*.duckdb", "*.duckdb.wal", "__pycache__", "northstar_dbt", "packages"))
        models = len(list((project / "models").rglob("*.sql")))
        bronze = root / "source.duckdb"
        size, _ = run(python, ["-c", BRONZE_WORKER, str(bronze), str(opts.orders), str(opts.days)], env, log)

        # SQLMesh through the warehouse entry point, one process per deployment (as the release engine runs it).
        wh, state = root / "sqlmesh" / "warehouse.duckdb", root / "sqlmesh" / "state.duckdb"
        wh.parent.mkdir()
        shutil.copy(bronze, wh)
        steps = []
        for env_name, label in (("dev", "cold plan+apply into dev"), ("staging", "promote to staging"),
                                ("prod", "promote to prod")):
            payload, wall = run(python, ["-m", "northstar_dbt.warehouse", "plan", "--project", str(project),
                                         "--warehouse", str(wh), "--state", str(state), "--env", env_name, "--apply"],
                                env, log)
            if not payload.get("applied"):
                sys.exit(f"bench: {label} not applied: {payload.get('error')}; see {log}")
            steps.append({"step": label, "env": env_name, "wall_s": wall, **{k: payload["timings"].get(k) for k in
                          ("load_s", "plan_s", "apply_s")}, "rows_recomputed": payload["rows_recomputed"],
                          "models_backfilled": len(payload["backfill"]), "virtual_update": payload["virtual_update"]})

        # plain dbt-core: `dbt build` of the same project (models, seeds, data tests, unit tests) on the same bronze.
        dbt_dir = root / "dbt"
        dbt_dir.mkdir()
        shutil.copy(bronze, dbt_dir / "dbt.duckdb")
        dbt_env = {**env, "NORTHSTAR_DUCKDB_PATH": str(dbt_dir / "dbt.duckdb")}
        dbt_result, dbt_wall = run(python, ["-c", DBT_WORKER, str(project), str(dbt_dir)], dbt_env, log)
        if not dbt_result["ok"]:
            sys.exit(f"bench: dbt build failed: {dbt_result['failed'][:5]}; see {log}")

    summary = {
        "benchmark": "dbt_scale",
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform(),
                    "load_average": os.getloadavg()},
        "models": models, "bronze": {"orders": opts.orders, "days": opts.days, "estimated_rows": size},
        "sqlmesh": steps,
        "dbt_build": {"wall_s": dbt_wall, "dbt_s": dbt_result["seconds"], "nodes": dbt_result["nodes"]},
        "project": str(opts.project),
        "command": f"python3 bench/dbt_scale.py --orders {opts.orders} --days {opts.days}",
    }
    opts.output.parent.mkdir(parents=True, exist_ok=True)
    opts.output.write_text(json.dumps(summary, indent=2) + "\n")

    print(f"{models} dbt models, bronze {opts.orders} orders / {opts.days} days; seconds (wall includes process start)")
    print(f"{'runner / step':<38} {'wall':>7} {'load':>7} {'plan':>7} {'apply':>7} {'backfilled':>10} {'rows recomputed':>15}")
    for s in steps:
        print(f"{'SQLMesh ' + s['step']:<38} {s['wall_s']:>7.2f} {s['load_s'] or 0:>7.2f} {s['plan_s'] or 0:>7.2f} "
              f"{s['apply_s'] or 0:>7.2f} {s['models_backfilled']:>10} {s['rows_recomputed']:>15}")
    nodes = dbt_result["nodes"]
    print(f"{'dbt build (same models, same data)':<38} {dbt_wall:>7.2f} {'':>7} {'':>7} {dbt_result['seconds']:>7.2f} "
          f"{nodes.get('model', 0):>10} {'all':>15}")
    print(f"dbt nodes: {json.dumps(nodes)}")
    print(f"JSON written to {opts.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
