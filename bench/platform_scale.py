#!/usr/bin/env python3
"""Benchmark: the figures that matter at Northstar's scale, on the repository as it is (1x) and on a 2x copy.

Per scale, in the same run:
  * ``./release plan`` for a one-file change (a staging model edited and committed): cold (no pantsd for the clone)
    and warm (the next call). Goals (issue 9): warm <= 5 s, cold <= 25 s. The clone's one-time component set-up
    (entry-point PEXes, the tools venv) is timed separately: it is first use, not a plan.
  * Airflow's DagBag parse of every DAG folder (new DAGs, legacy DAGs): total and slowest file, from Airflow's own
    ``dagbag_stats``, twice in one process: the first parse pays Airflow's lazy imports of operators and providers
    (once per process; the scheduler's DAG processor has them loaded), the second is the steady state the goals are
    about. Goals: <= 1 s in total, <= 0.2 s per file.
  * SQLMesh cold plan/apply of all models into dev, promotions to staging and prod, and ``dbt build`` of the same
    models on the same data: ``bench/dbt_scale.py --project <clone>/dbt`` (goal: promotion <= 10 s, 0 rows recomputed).

    ./pants export --resolve=dbt --resolve=airflow       # once: Pythons with SQLMesh+dbt and with Airflow
    python3 bench/platform_scale.py [--scales 1,2] [--only plan,dagbag,sqlmesh] [--output bench/results/platform_scale.json]

The 2x repository comes from ``bench/scale_repo.py`` (every DAG, Spark job and model copied under new names).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))
import scale_repo  # noqa: E402  (a sibling script, not a package)

PLAN_WARM_GOAL_S, PLAN_COLD_GOAL_S = 5.0, 25.0
DAGBAG_TOTAL_GOAL_S, DAGBAG_FILE_GOAL_S = 1.0, 0.2
EDITED_MODEL = "dbt/models/staging/stg_orders.sql"

DAGBAG_WORKER = """
import json, os, sys, tempfile, time
home = tempfile.mkdtemp(prefix="bench-dagbag-")
os.environ.update(AIRFLOW_HOME=home, AIRFLOW__CORE__LOAD_EXAMPLES="False", AIRFLOW__CORE__UNIT_TEST_MODE="True")
t0 = time.monotonic()
from airflow.models.dagbag import DagBag
import_s = time.monotonic() - t0
passes = []
for _ in range(2):  # pass 1 pays Airflow's lazy imports of operators/providers; pass 2 is the steady state
    folders = []
    for folder in sys.argv[1:]:
        t = time.monotonic()
        bag = DagBag(dag_folder=folder, include_examples=False)
        wall = time.monotonic() - t
        files = [{"file": os.path.relpath(s.file, folder) if os.path.isabs(s.file) else s.file.lstrip("/"),
                  "seconds": s.duration.total_seconds(), "dags": s.dag_num} for s in bag.dagbag_stats]
        folders.append({"folder": folder, "wall_s": wall, "dags": len(bag.dags),
                        "import_errors": len(bag.import_errors), "files": files})
    passes.append(folders)
print(json.dumps({"import_airflow_s": import_s, "passes": passes}))
"""


def exported_python(resolve: str) -> str:
    found = sorted((REPO / "dist" / "export" / "python" / "virtualenvs" / resolve).glob("*/bin/python"))
    if not found:
        sys.exit(f"bench: no exported {resolve} Python: run `./pants export --resolve={resolve}`")
    return str(found[-1])


def timed(args: list[str], cwd: Path, log: Path, env: dict[str, str] | None = None) -> tuple[int, float, str]:
    t0 = time.monotonic()
    with log.open("a") as err:
        err.write(f"\n$ {' '.join(args)}  (in {cwd})\n")
        err.flush()
        proc = subprocess.run(args, cwd=cwd, stdout=subprocess.PIPE, stderr=err, text=True,
                              env={**os.environ, **(env or {})})
    return proc.returncode, round(time.monotonic() - t0, 2), proc.stdout


def stop_pantsd(clone: Path) -> None:
    """Cold = no pantsd serving this clone (caches stay: a cold *daemon*, not a cold machine)."""
    subprocess.run(["pkill", "-f", f"pantsd \\[{clone}\\]"], check=False)
    time.sleep(1)


def measure_plan(clone: Path, log: Path) -> dict[str, Any]:
    code, setup_s, _ = timed(["./release", "status", "--json"], clone, log)  # component set-up on first use
    edited = clone / EDITED_MODEL
    edited.write_text(edited.read_text() + "\n-- bench: a one-line change\n")
    subprocess.run(["git", "-c", "user.email=bench@northstar.example", "-c", "user.name=bench", "commit", "-qam",
                    "bench: one-file change"], cwd=clone, check=True)
    stop_pantsd(clone)
    runs = []
    for label in ("cold", "warm", "warm"):
        rc, wall, out = timed(["./release", "plan", "--since", "HEAD~1", "--json"], clone, log)
        units = None
        try:
            units = len(json.loads(out).get("units", []))
        except (json.JSONDecodeError, AttributeError):
            pass
        runs.append({"run": label, "exit": rc, "wall_s": wall, "units": units})
    return {"setup_exit": code, "setup_s": setup_s, "runs": runs, "edited": EDITED_MODEL}


def measure_dagbag(clone: Path, log: Path) -> dict[str, Any]:
    folders = [str(clone / "airflow" / "dags"), str(clone / "legacy" / "legacy_dags")]
    code, wall, out = timed([exported_python("airflow"), "-c", DAGBAG_WORKER, *folders], Path(tempfile.gettempdir()), log)
    if code != 0:
        sys.exit(f"bench: DagBag worker failed (exit {code}); see {log}")
    doc = json.loads(out.strip().splitlines()[-1])
    result: dict[str, Any] = {"process_wall_s": wall, "import_airflow_s": round(doc["import_airflow_s"], 2)}
    for name, folders in zip(("first", "steady"), doc["passes"], strict=True):
        files = [f for folder in folders for f in folder["files"]]
        slowest: dict[str, Any] = max(files, key=lambda f: f["seconds"]) if files else {"file": None, "seconds": 0.0}
        result[name] = {"parse_s": round(sum(f["wall_s"] for f in folders), 3), "files": len(files),
                        "dags": sum(f["dags"] for f in folders), "import_errors": sum(f["import_errors"] for f in folders),
                        "slowest_file": slowest["file"], "slowest_file_s": round(slowest["seconds"], 3)}
    return result


def measure_sqlmesh(clone: Path, log: Path, orders: int) -> dict[str, Any]:
    out = Path(tempfile.mkdtemp(prefix="bench-platform-")) / "dbt_scale.json"
    code, wall, _ = timed([sys.executable, str(REPO / "bench" / "dbt_scale.py"), "--project", str(clone / "dbt"),
                           "--orders", str(orders), "--output", str(out)], REPO, log)
    if code != 0:
        sys.exit(f"bench: dbt_scale.py failed (exit {code}); see {log}")
    result: dict[str, Any] = json.loads(out.read_text())
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scales", default="1,2", help="comma-separated repository sizes (default 1,2)")
    parser.add_argument("--only", default="plan,dagbag,sqlmesh", help="which measurements (default all three)")
    parser.add_argument("--orders", type=int, default=300, help="bronze size for the SQLMesh/dbt runs")
    parser.add_argument("--output", type=Path, default=REPO / "bench" / "results" / "platform_scale.json")
    parser.add_argument("--keep", action="store_true", help="keep the scaled clones")
    opts = parser.parse_args()
    scales = [int(s) for s in opts.scales.split(",")]
    only = set(opts.only.split(","))
    if unknown := only - {"plan", "dagbag", "sqlmesh"}:
        parser.error(f"unknown --only {sorted(unknown)}")
    work = Path(tempfile.mkdtemp(prefix="bench-platform-scale-"))
    log = work / "bench.log"
    results = []
    for factor in scales:
        print(f"bench: {factor}x repository ...", file=sys.stderr)
        made = scale_repo.scale(work / f"x{factor}", factor)
        clone = Path(made["dest"])
        row: dict[str, Any] = {"scale": factor, "counts": made["after"]}
        if "dagbag" in only:
            print("bench:   DagBag parse", file=sys.stderr)
            row["dagbag"] = measure_dagbag(clone, log)
        if "plan" in only:
            print("bench:   ./release plan (set-up, cold, warm)", file=sys.stderr)
            row["plan"] = measure_plan(clone, log)
            stop_pantsd(clone)
        if "sqlmesh" in only:
            print("bench:   SQLMesh and dbt build", file=sys.stderr)
            row["sqlmesh"] = measure_sqlmesh(clone, log, opts.orders)
        results.append(row)
    summary = {"benchmark": "platform_scale", "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
               "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                           "platform": platform.platform(), "load_average": os.getloadavg()},
               "goals": {"plan_warm_s": PLAN_WARM_GOAL_S, "plan_cold_s": PLAN_COLD_GOAL_S,
                         "dagbag_total_s": DAGBAG_TOTAL_GOAL_S, "dagbag_file_s": DAGBAG_FILE_GOAL_S},
               "results": results, "log": str(log),
               "command": f"python3 bench/platform_scale.py --scales {opts.scales} --only {opts.only}"}
    opts.output.parent.mkdir(parents=True, exist_ok=True)
    opts.output.write_text(json.dumps(summary, indent=2) + "\n")
    print_table(results)
    print(f"JSON written to {opts.output}; log {log}")
    if not opts.keep:
        import shutil
        shutil.rmtree(work / "x1", ignore_errors=True)
        shutil.rmtree(work / "x2", ignore_errors=True)
    return 0


def print_table(results: list[dict[str, Any]]) -> None:
    print(f"{'figure':<44}" + "".join(f"{str(r['scale']) + 'x':>12}" for r in results) + f"{'goal':>10}")

    def line(label: str, values: list[Any], goal: str = "") -> None:
        print(f"{label:<44}" + "".join(f"{'-' if v is None else v:>12}" for v in values) + f"{goal:>10}")

    line("DAG files / dbt models / Spark jobs",
         [f"{r['counts']['dags']}/{r['counts']['dbt_models']}/{r['counts']['spark_jobs']}" for r in results])
    if all("plan" in r for r in results):
        line("plan: component set-up (first use) s", [r["plan"]["setup_s"] for r in results])
        for i, label, goal in ((0, "plan: cold daemon s", f"<= {PLAN_COLD_GOAL_S:g}"), (1, "plan: warm s", f"<= {PLAN_WARM_GOAL_S:g}"),
                               (2, "plan: warm again s", f"<= {PLAN_WARM_GOAL_S:g}")):
            line(label, [r["plan"]["runs"][i]["wall_s"] for r in results], goal)
    if all("dagbag" in r for r in results):
        line("DagBag: import airflow s (once per process)", [r["dagbag"]["import_airflow_s"] for r in results])
        line("DagBag first parse, all folders s", [r["dagbag"]["first"]["parse_s"] for r in results])
        line("DagBag first parse, slowest file s", [r["dagbag"]["first"]["slowest_file_s"] for r in results])
        line("DagBag steady parse, all folders s", [r["dagbag"]["steady"]["parse_s"] for r in results],
             f"<= {DAGBAG_TOTAL_GOAL_S:g}")
        line("DagBag steady parse, slowest file s", [r["dagbag"]["steady"]["slowest_file_s"] for r in results],
             f"<= {DAGBAG_FILE_GOAL_S:g}")
        line("DagBag: DAGs loaded / import errors",
             [f"{r['dagbag']['steady']['dags']}/{r['dagbag']['steady']['import_errors']}" for r in results])
    if all("sqlmesh" in r for r in results):
        for i in range(3):
            line(f"SQLMesh {results[0]['sqlmesh']['sqlmesh'][i]['step']} s", [r["sqlmesh"]["sqlmesh"][i]["wall_s"] for r in results],
                 "<= 10" if i else "")
        line("SQLMesh promote to prod: rows recomputed", [r["sqlmesh"]["sqlmesh"][2]["rows_recomputed"] for r in results], "0")
        line("dbt build (same models, same data) s", [r["sqlmesh"]["dbt_build"]["wall_s"] for r in results])


if __name__ == "__main__":
    raise SystemExit(main())
