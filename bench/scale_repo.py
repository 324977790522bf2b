#!/usr/bin/env python3
"""Produce an N-times Northstar repository: the same platform with every DAG, Spark job and non-staging dbt model
copied N-1 times under new names (bronze sources stay shared), committed in a fresh clone.

Why: issue 9 asks for the release system's figures on a platform twice Northstar's size (400 models, 70 DAGs, 40
jobs) so a reader can see how plan, DagBag parse and SQLMesh promotion grow. Copies are real: each copied model keeps
its SQL, tests and contract and refers to the other copies (``ref('fct_x')`` -> ``ref('fct_x_c2')``), so SQLMesh
and dbt build twice the models; the bronze sources are shared (one lake, one bronze layer), as two regional
warehouses on one lake would share them. Copied DAGs keep their operators and get new dag_ids; copied Spark
jobs keep their code and get new job names (registry, BUILD and JOB_NAME).

    python3 bench/scale_repo.py --scale 2 --dest /tmp/northstar-x2     # prints the counts as JSON

The source is HEAD of this checkout (``git clone``), so uncommitted edits are not copied.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[1]
DAG_ROOTS = ("airflow/dags", "legacy/legacy_dags")
MODEL_LAYERS = ("staging", "intermediate", "marts")  # bronze sources stay shared: one lake, one bronze layer
COPY = re.compile(r"_c\d+$")  # names of copies made by an earlier round (--scale 3+)
REF = re.compile(r"""ref\(\s*(['"])([A-Za-z0-9_]+)\1\s*\)""")
DAG_ID = re.compile(r"""(dag_id\s*=\s*)(['"])([A-Za-z0-9_.-]+)\2""")


def run(args: list[str], cwd: Path) -> str:
    return subprocess.run(args, cwd=cwd, check=True, capture_output=True, text=True).stdout


def clone(dest: Path) -> None:
    if dest.exists():
        sys.exit(f"scale_repo: {dest} exists; give a new --dest")
    run(["git", "clone", "--quiet", str(REPO), str(dest)], cwd=REPO)


# ------------------------------------------------------------------------------------------------------ DAGs ---
def copy_dags(root: Path, suffix: str) -> int:
    """Every DAG file (new and legacy) -> airflow/dags/scale<suffix>/..., dag_id renamed. Returns files copied."""
    target = root / "airflow" / "dags" / f"scale{suffix}"
    copied = 0
    for dag_root in DAG_ROOTS:
        for src in sorted((root / dag_root).rglob("*.py")):
            if any(part.startswith("scale_c") for part in src.parts) or src.name == "__init__.py":
                continue
            text = src.read_text()
            new, n = DAG_ID.subn(lambda m: f"{m.group(1)}{m.group(2)}{m.group(3)}{suffix}{m.group(2)}", text)
            if n == 0:
                continue  # not a DAG file (helpers)
            dest = target / Path(dag_root).name / src.relative_to(root / dag_root)
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_text(new)
            copied += 1
    return copied


# ------------------------------------------------------------------------------------------------ Spark jobs ---
def _append_to_tuple(text: str, group: str, lines: str) -> str:
    """Insert ``lines`` before the closing parenthesis of ``GROUP: tuple[str, ...] = (...)``."""
    pattern = re.compile(rf"({group}: tuple\[str, \.\.\.\] = \(.*?)(\n\))", re.S)
    match = pattern.search(text)
    if match is None:
        sys.exit(f"scale_repo: no {group} tuple to extend")
    return text[:match.end(1)] + "\n" + lines + text[match.end(1):]


def copy_spark_jobs(root: Path, suffix: str) -> int:
    jobs_dir = root / "spark" / "northstar_spark" / "jobs"
    registry = jobs_dir / "__init__.py"
    text = registry.read_text()
    names: dict[str, list[str]] = {}
    for group in ("BATCH_JOBS", "STREAMING_JOBS"):
        body = re.search(rf"{group}: tuple\[str, \.\.\.\] = \((.*?)\)", text, re.S)
        if body is None:
            sys.exit(f"scale_repo: {registry} has no {group} tuple")
        names[group] = re.findall(r'"([a-z0-9_]+)"', body.group(1))
    for group, jobs in names.items():
        originals = [j for j in jobs if not COPY.search(j)]
        added = "".join(f'    "{j}{suffix}",\n' for j in originals).rstrip("\n")
        text = _append_to_tuple(text, group, added)
        for job in originals:
            src = (jobs_dir / f"{job}.py").read_text()
            (jobs_dir / f"{job}{suffix}.py").write_text(
                re.sub(r'^JOB_NAME = "([a-z0-9_]+)"', rf'JOB_NAME = "\g<1>{suffix}"', src, count=1, flags=re.M))
    registry.write_text(text)
    build = root / "spark" / "BUILD"
    btext = build.read_text()
    all_jobs = [j for js in names.values() for j in js if not COPY.search(j)]
    btext = re.sub(r"(SPARK_JOBS = \[.*?)(\n\])",
                   lambda m: m.group(1) + "\n" + "".join(f'    "{j}{suffix}",\n' for j in all_jobs).rstrip("\n") + m.group(2),
                   btext, count=1, flags=re.S)
    build.write_text(btext)
    return len(all_jobs)


# ------------------------------------------------------------------------------------------------ dbt models ---
def _rename_refs(text: str, copied: set[str], suffix: str) -> str:
    return REF.sub(lambda m: f"ref({m.group(1)}{m.group(2)}{suffix if m.group(2) in copied else ''}{m.group(1)})", text)


def _rename_yaml(node: Any, copied: set[str], suffix: str) -> Any:
    if isinstance(node, dict):
        return {k: _rename_yaml(v, copied, suffix) for k, v in node.items()}
    if isinstance(node, list):
        return [_rename_yaml(v, copied, suffix) for v in node]
    if isinstance(node, str):
        return _rename_refs(node, copied, suffix)
    return node


def copy_models(root: Path, suffix: str) -> int:
    project = root / "dbt"
    models = project / "models"
    sql_files = [p for layer in MODEL_LAYERS for p in sorted((models / layer).rglob("*.sql")) if not COPY.search(p.stem)]
    copied = {p.stem for p in sql_files}
    target = models / f"scale{suffix}"
    for src in sql_files:
        dest = target / src.relative_to(models).parent / f"{src.stem}{suffix}.sql"
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_text(_rename_refs(src.read_text(), copied, suffix))
    for layer in MODEL_LAYERS:
        for src in sorted((models / layer).rglob("*.yml")):
            doc = yaml.safe_load(src.read_text()) or {}
            doc.pop("unit_tests", None)  # unit tests name their models' fixtures; the originals keep them
            for entry in doc.get("models") or []:
                entry["name"] = f"{entry['name']}{suffix}"
            if not doc.get("models"):
                continue
            doc = _rename_yaml(doc, copied, suffix)
            dest = target / src.relative_to(models).parent / f"{src.stem}{suffix}.yml"
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_text(yaml.safe_dump(doc, sort_keys=False))
    # The copies get their layers' folder configs (materialization, access, finance tags) under scale<suffix>/.
    dbt_project = project / "dbt_project.yml"
    config = yaml.safe_load(dbt_project.read_text())
    tree = config["models"]["northstar"]
    tree[f"scale{suffix}"] = {layer: tree[layer] for layer in MODEL_LAYERS if layer in tree}
    dbt_project.write_text(yaml.safe_dump(config, sort_keys=False))
    return len(copied)


def counts(root: Path) -> dict[str, int]:
    dags = sum(1 for r in DAG_ROOTS for p in (root / r).rglob("*.py") if DAG_ID.search(p.read_text()))
    models = sum(1 for _ in (root / "dbt" / "models").rglob("*.sql"))
    jobs_text = (root / "spark" / "BUILD").read_text()
    listing = re.search(r"SPARK_JOBS = \[(.*?)\n\]", jobs_text, re.S)
    jobs = len(re.findall(r'^    "[a-z0-9_]+",$', listing.group(0), re.M)) if listing else 0
    return {"dags": dags, "dbt_models": models, "spark_jobs": jobs}


def scale(dest: Path, factor: int) -> dict[str, Any]:
    clone(dest)
    before = counts(dest)
    for k in range(2, factor + 1):
        suffix = f"_c{k}"
        copy_dags(dest, suffix)
        copy_spark_jobs(dest, suffix)
        copy_models(dest, suffix)
    if factor > 1:
        run(["git", "add", "-A"], cwd=dest)
        run(["git", "-c", "user.email=bench@northstar.example", "-c", "user.name=bench", "commit", "-q", "-m",
             f"bench: {factor}x platform (scale_repo.py)"], cwd=dest)
    return {"dest": str(dest), "scale": factor, "before": before, "after": counts(dest)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--scale", type=int, default=2, help="copies of the platform (1 = a plain clone)")
    parser.add_argument("--dest", type=Path, required=True, help="new directory for the scaled clone")
    args = parser.parse_args(argv)
    if args.scale < 1:
        parser.error("--scale must be >= 1")
    print(json.dumps(scale(args.dest.resolve(), args.scale), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
