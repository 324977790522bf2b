"""Load and validate the whole catalog: every ``pipelines/*.yaml`` file, ``dags.yaml`` and ``sources.yaml``.

Loading is validation: ``load_catalog`` either returns a fully checked ``Catalog`` or raises ``CatalogError`` with
every problem found, each naming the file, the key path (with the pipeline id), the line and the rule.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from northstar_catalog import strict_yaml
from northstar_catalog.model import CatalogFile, Dag, DagsFile, Pipeline
from northstar_catalog.problems import CatalogError, Problem
from northstar_catalog.sources import Sources, load_sources

CATALOG_DIR = Path("pipelines/catalog")
M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class Entry:
    """A pipeline with where it was declared."""

    pipeline: Pipeline
    domain: str
    file: str
    line: int | None


@dataclass(frozen=True)
class Catalog:
    root: Path
    pipelines: dict[str, Entry]
    dags: dict[str, Dag]
    sources: Sources

    def pipelines_of_dag(self, dag_id: str) -> list[Pipeline]:
        return [e.pipeline for e in self.pipelines.values() if e.pipeline.runs.dag == dag_id]


def find_root(start: Path | None = None) -> Path:
    """The repository root: the nearest folder (from ``start`` or cwd upwards) holding pipelines/catalog/sources.yaml."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / CATALOG_DIR / "sources.yaml").is_file():
            return folder
    raise CatalogError([Problem(str(here), "-", None, "no-catalog", f"no {CATALOG_DIR}/sources.yaml here or above")])


def _key(path: tuple[Any, ...], data: Any) -> str:
    """('pipelines', 3, 'sla') -> 'pipelines[3](id=x).sla'."""
    out, node = "", data
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
            node = node[part] if isinstance(node, list) and part < len(node) else None
            if isinstance(node, dict) and "id" in node:
                out += f"(id={node['id']})"
        else:
            out += f".{part}" if out else str(part)
            node = node.get(part) if isinstance(node, dict) else None
    return out or "-"


def _parse(doc: strict_yaml.YamlDocument, model: type[M], data: Any, prefix: tuple[Any, ...] = ()) -> tuple[M | None, list[Problem]]:
    """Validate ``data`` (found at ``prefix`` in ``doc``) as ``model``; problems carry file, key path, line and rule."""
    try:
        return model.model_validate(data if data is not None else {}), []
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = (*prefix, *err["loc"])
            msg = str(err["msg"]).removeprefix("Value error, ")
            rule = err["type"]
            if rule == "value_error" and ": " in msg and " " not in msg.split(": ", 1)[0]:
                rule, msg = msg.split(": ", 1)[0], msg.split(": ", 1)[1]  # our validators lead with the rule name
            elif loc and loc[-1] in ("batch_minutes", "freshness_seconds") and rule in ("less_than", "greater_than"):
                rule = "sla-bound"
            problems.append(Problem(doc.file, _key(loc, doc.data), doc.line_of(loc), rule, msg))
        return None, problems


def _items(doc: strict_yaml.YamlDocument, header: type[BaseModel], key: str, model: type[M]) -> tuple[list[tuple[int, M]], list[Problem]]:
    """Validate the file's header, then each item of ``key`` on its own: one bad entry never hides the others."""
    parsed, problems = _parse(doc, header, doc.data)
    items: list[tuple[int, M]] = []
    if parsed is None:
        return items, problems
    for index, raw in enumerate(getattr(parsed, key)):
        item, found = _parse(doc, model, raw, (key, index))
        problems.extend(found)
        if item is not None:
            items.append((index, item))
    return items, problems


def load_catalog(root: Path | None = None) -> Catalog:
    from northstar_catalog.crosscheck import cross_check  # noqa: PLC0415 - avoids a cycle (crosscheck needs Catalog)

    repo = root or find_root()
    base = repo / CATALOG_DIR
    problems: list[Problem] = []
    sources = load_sources(base / "sources.yaml", str(CATALOG_DIR / "sources.yaml"))
    entries: dict[str, Entry] = {}
    files = sorted((base / "pipelines").glob("*.yaml"))
    if not files:
        problems.append(Problem(str(CATALOG_DIR / "pipelines"), "-", None, "no-pipelines", "no pipelines/*.yaml files"))
    for path in files:
        try:
            doc = strict_yaml.load(path, str(path.relative_to(repo)))
        except strict_yaml.StrictYamlError as exc:
            problems.append(Problem(exc.file, "-", exc.line, exc.rule, exc.message))
            continue
        pipelines, found = _items(doc, CatalogFile, "pipelines", Pipeline)
        problems.extend(found)
        domain = str(doc.data.get("domain")) if isinstance(doc.data, dict) else "?"
        for index, pipeline in pipelines:
            line = doc.line_of(("pipelines", index))
            if pipeline.id in entries:
                first = entries[pipeline.id]
                problems.append(Problem(doc.file, f"pipelines[{index}](id={pipeline.id})", line, "unique-id",
                                        f"pipeline id '{pipeline.id}' is already declared in {first.file}:{first.line}"))
                continue
            entries[pipeline.id] = Entry(pipeline, domain, doc.file, line)
    dags: dict[str, Dag] = {}
    try:
        dags_doc = strict_yaml.load(base / "dags.yaml", str(CATALOG_DIR / "dags.yaml"))
        parsed_dags, found = _items(dags_doc, DagsFile, "dags", Dag)
        problems.extend(found)
        for index, dag in parsed_dags:
            if dag.id in dags:
                problems.append(Problem(dags_doc.file, f"dags[{index}](id={dag.id})", dags_doc.line_of(("dags", index)),
                                        "unique-id", f"DAG id '{dag.id}' is declared twice"))
            dags[dag.id] = dag
    except strict_yaml.StrictYamlError as exc:
        problems.append(Problem(exc.file, "-", exc.line, exc.rule, exc.message))
    if any(p.rule != "unique-id" for p in problems):  # cross-checks on a partly loaded catalog would only echo these
        raise CatalogError(problems)
    catalog = Catalog(repo, entries, dags, sources)
    problems.extend(cross_check(catalog))
    if problems:
        raise CatalogError(problems)
    return catalog
