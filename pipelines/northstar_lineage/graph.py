"""Cross-tool lineage of the platform's files: dbt models, seeds, tests and macros, the Spark jobs and Kafka schemas
that feed dbt sources, and the Airflow DAGs that run them.

One module, two users (one source of truth):
- the Pants plugin (`pants-plugins/northstar/lineage_rules.py`) turns each file's edges into inferred dependencies, so
  `./pants --changed-since=REF --changed-dependents=transitive list` selects what a change reaches;
- the release engine (`northstar_release.impact`) reads the same edges in-process from the commit being released, to
  show each change's downstream impact and to propagate policy tags (`finance` -> two prod approvers) without starting
  Pants (~15-25 s cold) at plan/build time, and so that the CLI tests (which run in a sandbox without Pants) exercise it.

Edges ("X depends on Y", a change to Y reaches X):
- a dbt model/snapshot/singular test -> the models and seeds it `ref()`s, the YAML declaring each `source()` it reads,
  the Spark job the catalog says writes that source's bronze table and the Avro schema of the topic that job reads,
  the macro files defining the macros it calls (exact: `pkg.macro()` -> that package's file, `macro()` -> the file
  defining it), and `dbt_project.yml` (folder configs apply to every model);
- a macro file -> the macro files of the macros it calls;
- a dbt YAML file -> the models/seeds it describes or unit-tests (its tests run on them), every `ref()`/`source()` in
  its strings (relationships tests, unit test inputs) and the generic-test macros it uses. Not the reverse: a model
  does not depend on the YAML describing it, else one model's change would select every model of the same YAML;
- a DAG (catalog `dags.yaml`: generated file or `file:`) -> the models (`dbt_selector`), Spark jobs and topic schemas of
  the catalog pipelines it runs.

Tags (policy): a model's dbt tags (its `config(tags=...)`, its YAML `config.tags`, `+tags` of its folder in
dbt_project.yml) and the catalog tags of the pipelines that run it; a DAG's `dags.yaml` tags plus its pipelines'; a
Spark job's pipelines' tags. These are the sources the Pants BUILD `tags` are derived from (dbt/BUILD FINANCE_FILES is
checked against the dbt tags by test_project_layout.py; airflow/dags/BUILD is generated from the catalog).

Python 3.9 compatible (runs inside Pants).
"""

from __future__ import annotations

import posixpath
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

from northstar_lineage.dbt_parse import DbtRefs, LineageParseError, parse_expression, parse_template

DBT_ROOT = "dbt"
CATALOG_ROOT = "pipelines/catalog"
SPARK_JOBS_DIR = "spark/northstar_spark/jobs"
GENERATED_DAGS_DIR = "airflow/dags/generated"

_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_SQL_DIRS = ("models", "snapshots", "tests", "analyses")
_YAML_DIRS = ("models", "seeds", "snapshots", "tests", "analyses")


@dataclass
class Node:
    path: str
    kind: str  # model | seed | snapshot | test | analysis | yaml | macro | project | dag | spark_job | schema
    name: str
    deps: set[str] = field(default_factory=set)
    tags: set[str] = field(default_factory=set)


@dataclass
class Lineage:
    nodes: dict[str, Node]
    _reverse: dict[str, set[str]] | None = field(default=None, repr=False, compare=False)

    def deps_of(self, path: str) -> set[str]:
        node = self.nodes.get(path)
        return set(node.deps) if node else set()

    def reverse(self) -> dict[str, set[str]]:
        """path -> the paths that depend on it (computed once; the graph is not mutated after build)."""
        if self._reverse is None:
            self._reverse = {}
            for node in self.nodes.values():
                for dep in node.deps:
                    self._reverse.setdefault(dep, set()).add(node.path)
        return self._reverse

    def dependents(self, changed: Iterable[str]) -> dict[str, int]:
        """Every node a change to ``changed`` reaches, with its distance (0 = changed itself)."""
        reverse = self.reverse()
        dist: dict[str, int] = {}
        queue: deque[str] = deque()
        for path in changed:
            if path in self.nodes and path not in dist:
                dist[path] = 0
                queue.append(path)
        while queue:
            current = queue.popleft()
            for parent in sorted(reverse.get(current, ())):
                if parent not in dist:
                    dist[parent] = dist[current] + 1
                    queue.append(parent)
        return dist


def relevant_file(path: str, dbt_root: str = DBT_ROOT, catalog_root: str = CATALOG_ROOT) -> bool:
    """Files whose *content* lineage reads (everything else only needs to exist)."""
    if path.startswith(f"{catalog_root}/"):
        return path.endswith((".yaml", ".yml"))
    return path.startswith(f"{dbt_root}/") and path.endswith((".sql", ".yml", ".yaml"))


def _load_yaml(text: str, path: str) -> Any:
    try:
        return yaml.load(text, Loader=_YAML_LOADER)  # noqa: S506 -- a safe loader (libyaml's when present: 10x faster)
    except yaml.YAMLError as exc:
        raise LineageParseError(f"{path}: YAML does not parse: {exc}") from exc


def _strings(value: Any) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _generic_tests(value: Any) -> Iterable[tuple[str | None, str]]:
    """(namespace, test name) of every generic test under `tests:`/`data_tests:` keys, at any depth."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key in ("tests", "data_tests") and isinstance(item, list):
                for entry in item:
                    name = entry if isinstance(entry, str) else next(iter(entry), None) if isinstance(entry, dict) else None
                    if isinstance(name, str):
                        ns, _, short = name.rpartition(".")
                        yield (ns or None, short)
            else:
                yield from _generic_tests(item)
    elif isinstance(value, list):
        for item in value:
            yield from _generic_tests(item)


def _as_list(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


class _Builder:
    def __init__(self, contents: Mapping[str, str], existing: set[str], dbt_root: str, catalog_root: str) -> None:
        self.contents = contents
        self.existing = existing
        self.dbt = dbt_root
        self.catalog = catalog_root
        self.nodes: dict[str, Node] = {}
        self.by_name: dict[str, str] = {}  # model/seed/snapshot name -> path
        self.source_decl: dict[tuple[str, str], str] = {}  # (source, table) -> YAML path
        self.source_relation: dict[tuple[str, str], str] = {}  # (source, table) -> schema.identifier
        self.macros: dict[tuple[str, str], str] = {}  # (package, macro) -> path
        self.macro_any: dict[str, str] = {}  # macro -> path (root project first)
        self.project_name = ""
        self.parsed: dict[str, DbtRefs] = {}
        self.yaml_docs: dict[str, Any] = {}
        self.writer_deps: dict[str, set[str]] = {}  # bronze relation -> spark job / schema paths
        self.pipelines: list[dict[str, Any]] = []

    # -- helpers ------------------------------------------------------------------------------------------------
    def node(self, path: str, kind: str, name: str) -> Node:
        if path not in self.nodes:
            self.nodes[path] = Node(path=path, kind=kind, name=name)
        return self.nodes[path]

    def rel(self, path: str) -> str:
        return path[len(self.dbt) + 1:]

    def under(self, path: str, folders: tuple[str, ...], exts: tuple[str, ...]) -> bool:
        rel = self.rel(path) if path.startswith(f"{self.dbt}/") else ""
        return rel.split("/", 1)[0] in folders and rel.endswith(exts)

    # -- passes -------------------------------------------------------------------------------------------------
    def index_dbt(self) -> None:
        project_path = f"{self.dbt}/dbt_project.yml"
        if project_path in self.contents:
            doc = _load_yaml(self.contents[project_path], project_path) or {}
            self.project_name = str(doc.get("name", ""))
            self.node(project_path, "project", self.project_name)
        for path in sorted(self.existing):
            if not path.startswith(f"{self.dbt}/"):
                continue
            rel = self.rel(path)
            stem = posixpath.splitext(posixpath.basename(path))[0]
            top = rel.split("/", 1)[0]
            if path.endswith(".csv") and top == "seeds":
                self.node(path, "seed", stem)
                self.by_name.setdefault(stem, path)
            elif path.endswith(".sql") and top in _SQL_DIRS:
                kind = {"models": "model", "snapshots": "snapshot", "tests": "test", "analyses": "analysis"}[top]
                self.node(path, kind, stem)
                if kind in ("model", "snapshot"):
                    self.by_name.setdefault(stem, path)
            elif path.endswith(".sql") and self._macro_package(rel) is not None:
                self.node(path, "macro", stem)
            elif path.endswith((".yml", ".yaml")) and top in _YAML_DIRS:
                self.node(path, "yaml", stem)
        for path, node in sorted(self.nodes.items()):
            if node.kind in ("model", "snapshot", "test", "analysis", "macro"):
                self.parsed[path] = parse_template(self.contents.get(path, ""), path)
            if node.kind == "macro":
                package = self._macro_package(self.rel(path)) or self.project_name
                for name in self.parsed[path].macros_defined:
                    self.macros.setdefault((package, name), path)
                    if package == self.project_name or name not in self.macro_any:
                        self.macro_any[name] = path
            if node.kind == "yaml":
                self.yaml_docs[path] = _load_yaml(self.contents.get(path, ""), path) or {}

    def _macro_package(self, rel: str) -> str | None:
        parts = rel.split("/")
        if parts[0] == "macros":
            return self.project_name
        if parts[0] == "dbt_packages" and len(parts) > 3 and parts[2] == "macros":
            return parts[1]
        return None

    def index_catalog(self) -> None:
        for path in sorted(self.contents):
            if path.startswith(f"{self.catalog}/pipelines/") and path.endswith((".yaml", ".yml")):
                doc = _load_yaml(self.contents[path], path) or {}
                self.pipelines.extend(p for p in doc.get("pipelines") or [] if isinstance(p, dict))
        for pipeline in self.pipelines:
            sink = str(pipeline.get("sink", ""))
            runs = pipeline.get("runs") or {}
            if sink.startswith("bronze.") and runs.get("spark_job"):
                writers = self.writer_deps.setdefault(sink, set())
                writers |= self._pipeline_inputs(pipeline)

    def _spark_job(self, name: Any) -> str | None:
        path = f"{SPARK_JOBS_DIR}/{name}.py"
        return path if path in self.existing else None

    def _pipeline_inputs(self, pipeline: dict[str, Any]) -> set[str]:
        """Spark job file and topic schema files a pipeline runs/reads (those that exist)."""
        runs = pipeline.get("runs") or {}
        out: set[str] = set()
        job = self._spark_job(runs.get("spark_job")) if runs.get("spark_job") else None
        if job:
            self.node(job, "spark_job", posixpath.splitext(posixpath.basename(job))[0])
            out.add(job)
        topic = (pipeline.get("source") or {}).get("kafka")
        if topic:
            prefix = f"{self.catalog}/schemas/{topic}/"
            for schema in sorted(p for p in self.existing if p.startswith(prefix) and p.endswith(".avsc")):
                self.node(schema, "schema", f"{topic}-value")
                out.add(schema)
        return out

    def dbt_edges(self) -> None:
        project_path = f"{self.dbt}/dbt_project.yml"
        for path, refs in self.parsed.items():
            node = self.nodes[path]
            for _package, name in refs.refs:
                if name in self.by_name:
                    node.deps.add(self.by_name[name])
            for key in refs.sources:
                if key in self.source_decl:
                    node.deps.add(self.source_decl[key])
                node.deps |= self.writer_deps.get(self.source_relation.get(key, ""), set())
            node.deps |= self._macro_paths(refs.macro_calls)
            node.tags |= set(refs.config_tags)
            if node.kind in ("model", "snapshot") and project_path in self.nodes:
                node.deps.add(project_path)
            node.deps.discard(path)

    def _macro_paths(self, calls: Iterable[tuple[str | None, str]]) -> set[str]:
        out: set[str] = set()
        for namespace, name in calls:
            path = self.macros.get((namespace, name)) if namespace else self.macro_any.get(name)
            if path:
                out.add(path)
        return out

    def yaml_edges(self) -> None:
        # Sources first: models' source() edges need every declaration.
        for path, doc in self.yaml_docs.items():
            for source in (doc.get("sources") or []) if isinstance(doc, dict) else []:
                schema = source.get("schema") or source.get("name")
                for table in source.get("tables") or []:
                    key = (str(source.get("name")), str(table.get("name")))
                    self.source_decl.setdefault(key, path)
                    self.source_relation[key] = f"{schema}.{table.get('identifier') or table.get('name')}"
        for path, doc in self.yaml_docs.items():
            if not isinstance(doc, dict):
                continue
            node = self.nodes[path]
            for section in ("models", "seeds", "snapshots"):
                for entry in doc.get(section) or []:
                    target = self.by_name.get(str(entry.get("name")))
                    if target:
                        node.deps.add(target)
                        config = entry.get("config") or {}
                        self.nodes[target].tags |= set(_as_list(config.get("tags")) + _as_list(entry.get("tags")))
            for test in doc.get("unit_tests") or []:
                target = self.by_name.get(str(test.get("model")))
                if target:
                    node.deps.add(target)
            for text in _strings({k: v for k, v in doc.items() if k != "sources"}):
                if "ref(" in text or "source(" in text:
                    refs = parse_expression(text, path)
                    node.deps |= {self.by_name[n] for _, n in refs.refs if n in self.by_name}
                    node.deps |= {self.source_decl[k] for k in refs.sources if k in self.source_decl}
            node.deps |= self._macro_paths((ns, f"test_{name}") for ns, name in _generic_tests(doc))
            node.deps.discard(path)

    def folder_tags(self) -> None:
        project_path = f"{self.dbt}/dbt_project.yml"
        if project_path not in self.contents:
            return
        doc = _load_yaml(self.contents[project_path], project_path) or {}
        config = ((doc.get("models") or {}).get(self.project_name)) or {}

        def walk(prefix: str, cfg: dict[str, Any]) -> None:
            tags = _as_list(cfg.get("+tags")) + _as_list(cfg.get("tags") if not isinstance(cfg.get("tags"), dict) else None)
            if tags:
                for node in self.nodes.values():
                    if node.kind == "model" and node.path.startswith(f"{self.dbt}/models/{prefix}"):
                        node.tags |= set(tags)
            for key, sub in cfg.items():
                if isinstance(sub, dict) and not key.startswith("+"):
                    walk(f"{prefix}{key}/", sub)

        if isinstance(config, dict):
            walk("", config)

    def catalog_edges(self) -> None:
        dags_path = f"{self.catalog}/dags.yaml"
        if dags_path not in self.contents:
            return
        dag_paths: dict[str, str] = {}
        for dag in (_load_yaml(self.contents[dags_path], dags_path) or {}).get("dags") or []:
            path = dag.get("file") or f"{GENERATED_DAGS_DIR}/{dag.get('id')}.py"
            if path in self.existing:
                dag_paths[str(dag.get("id"))] = path
                self.node(path, "dag", str(dag.get("id"))).tags |= set(_as_list(dag.get("tags")))
        for pipeline in self.pipelines:
            runs = pipeline.get("runs") or {}
            tags = set(_as_list(pipeline.get("tags")))
            inputs = self._pipeline_inputs(pipeline)
            model = self.by_name.get(str(runs.get("dbt_selector", "")).lstrip("+").rstrip("+"))
            for path in inputs:
                if self.nodes[path].kind == "spark_job":
                    self.nodes[path].tags |= tags
            if model:
                self.nodes[model].tags |= tags
                inputs.add(model)
            dag = dag_paths.get(str(runs.get("dag")))
            if dag:
                self.nodes[dag].deps |= inputs
                self.nodes[dag].tags |= tags


def build_lineage(contents: Mapping[str, str], existing: Iterable[str], dbt_root: str = DBT_ROOT,
                  catalog_root: str = CATALOG_ROOT) -> Lineage:
    """Lineage from file contents (only ``relevant_file`` paths are read) and the set of files that exist.

    Raises ``LineageParseError`` (naming the file) on a dbt file or YAML that does not parse."""
    builder = _Builder(contents, set(existing) | set(contents), dbt_root, catalog_root)
    builder.index_dbt()
    builder.index_catalog()
    builder.yaml_edges()
    builder.dbt_edges()
    builder.folder_tags()
    builder.catalog_edges()
    return Lineage(nodes=builder.nodes)
