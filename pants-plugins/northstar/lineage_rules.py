"""Dependency inference for dbt files and Airflow DAGs from the platform's lineage (pipelines/northstar_lineage).

Why one index rule and two thin inference rules: lineage is a whole-project fact (a model's `ref('x')` needs to know
which file defines `x`; a DAG's models come from the catalog), so the index is built once per change of any input
(the engine memoizes it; ~0.5 s for 214 models, 38 DAGs) and each target's inference is a dictionary lookup.

Inputs are read through the engine (`AllTargets` for which files exist and who owns them, `DigestContents` for the dbt
files and catalog YAML), so pantsd invalidates the index exactly when one of them changes.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from dataclasses import dataclass
from typing import Dict, List, Tuple

from pants.backend.python.target_types import PythonResolveField, PythonSourceField
from pants.engine.addresses import Address
from pants.engine.fs import DigestContents, PathGlobs
from pants.engine.rules import Get, collect_rules, rule
from pants.engine.target import (
    AllTargets,
    FieldSet,
    InferDependenciesRequest,
    InferredDependencies,
    SingleSourceField,
    Target,
)
from pants.engine.unions import UnionRule
from pants.util.frozendict import FrozenDict

from pants.base.build_environment import get_buildroot


def _load_lineage_package() -> None:
    """Import pipelines/northstar_lineage (the package the release engine reads lineage with: one parser) by its
    location, without putting pipelines/ on sys.path or [GLOBAL].pythonpath: both feed pantsd's invalidation globs
    (Pants adds every sys.path/pythonpath entry), so any edit under pipelines/ would restart pantsd -- and a sys.path
    entry added here makes client and daemon options differ, restarting pantsd on *every* run. pants.toml lists the
    package's files as invalidation globs instead."""
    if "northstar_lineage" in sys.modules:
        return
    folder = os.path.join(get_buildroot(), "pipelines", "northstar_lineage")
    spec = importlib.util.spec_from_file_location("northstar_lineage", os.path.join(folder, "__init__.py"),
                                                  submodule_search_locations=[folder])
    assert spec is not None and spec.loader is not None, f"cannot load {folder}"
    module = importlib.util.module_from_spec(spec)
    sys.modules["northstar_lineage"] = module
    spec.loader.exec_module(module)


_load_lineage_package()

from northstar_lineage.dbt_parse import LineageParseError  # noqa: E402
from northstar_lineage.graph import build_lineage, relevant_file  # noqa: E402
from northstar.target_types import AirflowDagTarget, DbtFileSourceField  # noqa: E402


@dataclass(frozen=True)
class LineageIndex:
    """Inferred dependencies per file path, as target addresses."""

    deps: FrozenDict[str, Tuple[Address, ...]]


def _preferred_owners(owners: List[Target]) -> Tuple[Address, ...]:
    """The owners to depend on. A Spark job file is a `python_source` (spark resolve) and also a plain `file`
    (`spark:job_sources`): depend on the resolve-free copy. A dependency on a Python target of another resolve would
    make every dbt file and DAG (and every test that depends on the dbt project) fail Pants' one-resolve-per-closure
    check, and would pull Spark code into Airflow and tools sandboxes. A change to the job file still selects both
    owners, so its dependents are found; what is lost is a path from the spark *lockfile* to dbt models/DAGs."""
    resolve_free = [t for t in owners if not t.has_field(PythonResolveField)]
    return tuple(sorted({t.address for t in (resolve_free or owners)}))


@rule(desc="Read dbt/catalog lineage")
async def lineage_index(all_targets: AllTargets) -> LineageIndex:
    owners: Dict[str, List[Target]] = {}
    for tgt in all_targets:
        if tgt.has_field(SingleSourceField):
            path = tgt[SingleSourceField].file_path
            owners.setdefault(path, []).append(tgt)
    paths = sorted(p for p in owners if relevant_file(p))
    digest_contents = await Get(DigestContents, PathGlobs(paths))
    contents = {fc.path: fc.content.decode("utf-8") for fc in digest_contents}
    try:
        lineage = build_lineage(contents, owners.keys())
    except LineageParseError as exc:
        raise ValueError(f"northstar lineage: {exc}") from exc
    deps: Dict[str, Tuple[Address, ...]] = {}
    for path, node in lineage.nodes.items():
        addresses = sorted({a for dep in node.deps if dep in owners for a in _preferred_owners(owners[dep])})
        if addresses:
            deps[path] = tuple(addresses)
    return LineageIndex(FrozenDict(deps))


@dataclass(frozen=True)
class DbtLineageFieldSet(FieldSet):
    required_fields = (DbtFileSourceField,)

    source: DbtFileSourceField


class InferDbtLineage(InferDependenciesRequest):
    infer_from = DbtLineageFieldSet


@dataclass(frozen=True)
class DagLineageFieldSet(FieldSet):
    required_fields = (PythonSourceField,)

    source: PythonSourceField

    @classmethod
    def opt_out(cls, tgt: Target) -> bool:
        # Only DAG files: other Python sources keep Python import inference alone.
        return tgt.alias != AirflowDagTarget.alias


class InferDagLineage(InferDependenciesRequest):
    infer_from = DagLineageFieldSet


@rule(desc="Infer dbt ref()/source()/macro dependencies")
async def infer_dbt_lineage(request: InferDbtLineage, index: LineageIndex) -> InferredDependencies:
    return InferredDependencies(index.deps.get(request.field_set.source.file_path, ()))


@rule(desc="Infer a DAG's models, Spark jobs and schemas from the catalog")
async def infer_dag_lineage(request: InferDagLineage, index: LineageIndex) -> InferredDependencies:
    return InferredDependencies(index.deps.get(request.field_set.source.file_path, ()))


def rules():  # type: ignore[no-untyped-def]
    return [
        *collect_rules(),
        UnionRule(InferDependenciesRequest, InferDbtLineage),
        UnionRule(InferDependenciesRequest, InferDagLineage),
    ]
