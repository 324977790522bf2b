"""A copy of the platform's real dbt project cut down to the models some given models need (issue 10 tests).

Why: the contract and Spark-consumer gates must be tested on the platform's real models (a real contracted mart, a
real staging model reading a real bronze table), but a SQLMesh build of all 214 models would dominate every step.
The slice keeps the given models and every model/seed they depend on (``northstar_lineage``, the same graph the engine
and the Pants plugin use); other models' SQL files and singular tests are deleted, and in the YAML the entries of
deleted models and the tests of kept models that ``ref()`` a deleted one (relationships) are dropped, so the sliced
project builds and tests exactly like the full one for the models it keeps.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import yaml

from northstar_lineage.graph import Lineage, build_lineage, relevant_file
from northstar_release.tests.helpers import REPO

COPIED = ("dbt", "pipelines/catalog")


def _lineage(root: Path) -> Lineage:
    files = [str(p.relative_to(root)) for folder in COPIED for p in (root / folder).rglob("*") if p.is_file()]
    contents = {f: (root / f).read_text() for f in files if relevant_file(f)}
    return build_lineage(contents, files)


def needed_models(models: list[str]) -> set[str]:
    """Paths of ``models`` and everything they (and the YAML tests on them) depend on, in the real repository."""
    lineage = _lineage(REPO)
    by_name = {n.name: p for p, n in lineage.nodes.items() if n.kind in ("model", "seed", "snapshot")}
    keep = {by_name[m] for m in models}
    queue = list(keep)
    while queue:
        for dep in lineage.deps_of(queue.pop()):
            if dep not in keep and lineage.nodes[dep].kind in ("model", "seed", "snapshot"):
                keep.add(dep)
                queue.append(dep)
    return keep


def _prune_yaml(path: Path, kept: set[str]) -> None:
    """Drop YAML entries of models the slice deleted, and tests of kept models that ref() a deleted model."""
    doc = yaml.safe_load(path.read_text()) or {}
    if not isinstance(doc, dict) or not (doc.get("models") or doc.get("unit_tests")):
        return

    def refs_kept(test: object) -> bool:
        text = json.dumps(test)
        return all(name in kept for name in re.findall(r"ref\(['\"](\w+)['\"]\)", text))

    doc["models"] = [m for m in doc.get("models") or [] if m.get("name") in kept]
    for model in doc["models"]:
        for col in model.get("columns") or []:
            for key in ("tests", "data_tests"):
                if key in col:
                    col[key] = [t for t in col[key] if refs_kept(t)]
    if "unit_tests" in doc:
        doc["unit_tests"] = [t for t in doc["unit_tests"] if t.get("model") in kept and refs_kept(t)]
    path.write_text(yaml.safe_dump(doc, sort_keys=False))


def copy_dbt_slice(repo: Path, models: list[str]) -> set[str]:
    """Copy ``dbt/`` into ``repo/dbt`` keeping only the models needed by ``models``; returns the kept paths."""
    keep = needed_models(models)
    shutil.copytree(REPO / "dbt", repo / "dbt", ignore=shutil.ignore_patterns(
        "target", "logs", ".cache", "*.duckdb", "*.duckdb.wal", "__pycache__", "northstar_dbt", "northstar_dq",
        "BUILD"))
    for sql in (repo / "dbt" / "models").rglob("*.sql"):
        if str(sql.relative_to(repo)) not in keep:
            sql.unlink()
    names = {Path(p).stem for p in keep}
    for doc in (repo / "dbt" / "models").rglob("*.yml"):
        _prune_yaml(doc, names)
    for test in (repo / "dbt" / "tests").rglob("*.sql"):
        test.unlink()  # singular tests span models the slice may not keep
    return keep
