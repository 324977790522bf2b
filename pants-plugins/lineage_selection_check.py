#!/usr/bin/env python3
"""Integration check of the plugin's dependency inference through real Pants: on a temporary git clone of HEAD, make
a one-line change and assert what `./pants --changed-since=HEAD --changed-dependents=transitive list` selects.

Why a script on a clone and not a `python_tests` target: `--changed-since` needs a git repository and a Pants run,
neither of which exists inside a Pants test sandbox; pants.testutil's RuleRunner would need a Python 3.9 resolve with
pantsbuild.pants + pantsbuild.pants.testutil locked (not available in this repo's resolves) and cannot exercise git.

Expected sets come from an oracle independent of the plugin: plain substring search for `ref('x')` / macro calls over
the model files, and the catalog's `dbt_selector`/`dag` fields read with PyYAML. Scenarios:
  staging   one-line change to a staging model -> exactly its downstream models, the YAML testing them, the DAGs that
            run them, and test targets; no other model, DAG, Spark or infra target
  macro     one-line change to a package macro file -> exactly the models calling its macros and their downstream
  lockfile  a change to 3rdparty/python/spark.lock -> the spark resolve's requirements, sources, PEXes and tests (and
            the engine tests that run a Spark PEX); no dbt model, no DAG, no engine library (lineage edges point at
            the resolve-free copy of a Spark job file)

Usage: python3 pants-plugins/lineage_selection_check.py [scenario ...]   (exit 1 on any mismatch; runs --no-pantsd,
so no daemon is left behind). Needs PyYAML.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
STAGING = "dbt/models/staging/retail_oltp/stg_retail_oltp__shipments.sql"
MACROS = "dbt/dbt_packages/northstar_utils/macros/helpers.sql"
LOCK = "3rdparty/python/spark.lock"


def run(cwd: Path, *args: str) -> str:
    return subprocess.run(args, cwd=cwd, check=True, capture_output=True, text=True).stdout


def models(root: Path) -> dict[str, str]:
    return {p.stem: p.read_text() for p in (root / "dbt" / "models").rglob("*.sql")}


def downstream(sql: dict[str, str], start: set[str]) -> set[str]:
    reached, frontier = set(start), set(start)
    while frontier:
        frontier = {m for m, text in sql.items() if m not in reached
                    and any(f"ref('{p}')" in text or f'ref("{p}")' in text for p in frontier)}
        reached |= frontier
    return reached


def dags_running(root: Path, names: set[str]) -> set[str]:
    dags = yaml.safe_load((root / "pipelines/catalog/dags.yaml").read_text())["dags"]
    files = {d["id"]: d.get("file") or f"airflow/dags/generated/{d['id']}.py" for d in dags}
    out = set()
    for f in (root / "pipelines/catalog/pipelines").glob("*.yaml"):
        for p in yaml.safe_load(f.read_text())["pipelines"]:
            runs = p.get("runs") or {}
            if runs.get("dbt_selector") in names:
                out.add(files[runs["dag"]])
    return out


def selected(root: Path) -> tuple[list[str], float]:
    started = time.monotonic()
    out = run(root, "./pants", "--no-pantsd", "--changed-since=HEAD", "--changed-dependents=transitive", "list")
    return [line for line in out.splitlines() if line.strip()], time.monotonic() - started


def files_of(targets: list[str], prefix: str, suffix: str) -> set[str]:
    return {t.split(":", 1)[0] for t in targets if t.startswith(prefix) and t.split(":", 1)[0].endswith(suffix)}


def check(name: str, problems: list[str], want: set[str], got: set[str]) -> None:
    if want != got:
        problems.append(f"{name}: missing {sorted(want - got)}; unexpected {sorted(got - want)}")


def scenario(root: Path, which: str) -> list[str]:
    problems: list[str] = []
    sql = models(root)
    if which == "staging":
        path = root / STAGING
        path.write_text(path.read_text().replace("\n", "\n-- one-line change\n", 1))
        want_models = downstream(sql, {Path(STAGING).stem})
    elif which == "macro":
        path = root / MACROS
        path.write_text(path.read_text().replace("\n", "\n{#- one-line change -#}\n", 1))
        callers = {m for m, text in sql.items() if "northstar_utils.safe_divide(" in text or "northstar_utils.usd(" in text}
        want_models = downstream(sql, callers)
    else:
        path = root / LOCK
        path.write_text(path.read_text().replace("// ", "// (one-line change) ", 1))
        want_models = set()
    targets, seconds = selected(root)
    print(f"{which}: {len(targets)} targets selected in {seconds:.1f} s (--no-pantsd, includes Pants start-up)")
    got_models = {Path(p).stem for p in files_of(targets, "dbt/models/", ".sql")}
    check(f"{which} models", problems, want_models, got_models)
    check(f"{which} DAGs", problems, dags_running(root, want_models), files_of(targets, "airflow/dags/", ".py"))
    if which == "lockfile":
        spark = [t for t in targets if t.startswith("spark")]
        if not any(t.startswith("3rdparty/python:spark#pyspark") for t in targets) or "spark:tests" not in targets \
                or "spark:daily_revenue" not in targets or not spark:
            problems.append("lockfile: the spark requirements, PEXes and tests are not all selected")
        # The engine's tests that run a Spark PEX (runtime_package_dependencies) are dependents; its library is not.
        other = [t for t in targets if t.startswith(("infra", "dbt/models", "airflow/northstar_airflow/"))
                 or (t.startswith("pipelines/northstar_release/") and "/tests/" not in t)]
        if other:
            problems.append(f"lockfile: unrelated targets selected: {other[:5]}")
    else:
        unrelated = [t for t in targets if t.startswith(("spark", "infra", "legacy", "3rdparty"))]
        if unrelated:
            problems.append(f"{which}: unrelated targets selected: {unrelated[:5]}")
        if not any(t.startswith("dbt/models/") and t.split(":")[0].endswith(".yml") for t in targets):
            problems.append(f"{which}: no dbt YAML (tests of the reached models) selected")
        if not {"dbt:tests", "airflow:tests"} <= set(targets):
            problems.append(f"{which}: the dbt and Airflow test targets are not selected")
    run(root, "git", "checkout", "--", ".")
    return problems


def main(argv: list[str]) -> int:
    scenarios = argv or ["staging", "macro", "lockfile"]
    with tempfile.TemporaryDirectory(prefix="lineage-check-") as tmp:
        root = Path(tmp) / "repo"
        run(REPO, "git", "clone", "--quiet", "--no-hardlinks", str(REPO), str(root))
        problems = [p for s in scenarios for p in scenario(root, s)]
    for p in problems:
        print(f"FAIL {p}")
    print("lineage selection check: " + ("FAILED" if problems else f"{len(scenarios)} scenario(s) passed"))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
