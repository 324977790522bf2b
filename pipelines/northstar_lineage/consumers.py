"""Who consumes a relation's columns: the dbt models that ``ref()`` a model or read a ``source()``, the SQL in DAG
files, and the DAGs that run a model -- each with the columns it actually uses (``columns.py`` over the model's
rendered SQL, ``render.py``).

Used by the release gates that judge a schema change by its consumers: the ``contract`` gate (a removed or retyped
column of a contracted model) and the ``spark_consumers`` gate (a Spark job's declared output against the models
reading its bronze table). One lineage graph (``graph.py``) says who is downstream; this module says which columns
each of them reads.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import yaml

from northstar_lineage.columns import sql_strings, used_columns
from northstar_lineage.dbt_parse import parse_template
from northstar_lineage.graph import Lineage
from northstar_lineage.render import RenderError, package_macros, render_model

Reader = Callable[[str], str]


@dataclass(frozen=True)
class Consumer:
    kind: str  # model | snapshot | test | analysis | dag
    name: str
    path: str
    columns: tuple[str, ...] | None  # the relation's columns it uses; None: could not tell (counts as all)
    how: str  # how it reads the relation

    def uses(self, column: str) -> bool:
        return self.columns is None or column in self.columns

    def describe(self, column: str | None = None) -> str:
        what = f"{self.kind} {self.name}"
        if self.columns is None:
            return f"{what} ({self.how}; columns unknown, counted as using it)"
        return f"{what} ({self.how}" + (f", uses {column})" if column else ")")


def source_relations(contents: Mapping[str, str], dbt_root: str = "dbt") -> dict[tuple[str, str], str]:
    """(source, table) -> ``schema.identifier`` from the dbt source declarations in ``contents``."""
    out: dict[tuple[str, str], str] = {}
    for path, text in sorted(contents.items()):
        if not (path.startswith(f"{dbt_root}/models/") and path.endswith((".yml", ".yaml"))):
            continue
        doc: Any = yaml.safe_load(text) or {}
        for source in (doc.get("sources") or []) if isinstance(doc, dict) else []:
            schema = source.get("schema") or source.get("name")
            for table in source.get("tables") or []:
                out[(str(source.get("name")), str(table.get("name")))] = \
                    f"{schema}.{table.get('identifier') or table.get('name')}"
    return out


class ConsumerIndex:
    """Consumers of relations in one commit's files (``read`` returns a file's text; ``contents`` the dbt files)."""

    def __init__(self, lineage: Lineage, contents: Mapping[str, str], read: Reader, dag_files: Iterable[str],
                 dbt_root: str = "dbt") -> None:
        self.lineage = lineage
        self.contents = contents
        self.read = read
        self.dag_files = sorted(dag_files)
        self.sources = source_relations(contents, dbt_root)
        self.packages = package_macros(contents, dbt_root)
        self._dag_sql: dict[str, list[str]] | None = None

    def _sql_of(self, path: str) -> str | None:
        try:
            return render_model(self.read(path), path, self.sources, self.packages)
        except RenderError:
            return None

    def _dbt_consumer(self, path: str, relation: str, columns: Mapping[str, str], how: str) -> Consumer | None:
        node = self.lineage.nodes[path]
        sql = self._sql_of(path)
        used = used_columns(sql, relation, columns) if sql is not None else None
        if used is not None and not used:
            return None  # depends on the relation's declaration but does not read it
        return Consumer(kind=node.kind, name=node.name, path=path,
                        columns=tuple(sorted(used)) if used is not None else None, how=how)

    def dag_sql(self) -> dict[str, list[str]]:
        if self._dag_sql is None:
            self._dag_sql = {p: list(sql_strings(self.read(p))) for p in self.dag_files}
        return self._dag_sql

    def _dag_consumers(self, relation: str, columns: Mapping[str, str]) -> list[Consumer]:
        out = []
        for path, queries in sorted(self.dag_sql().items()):
            used: set[str] = set()
            unknown = False
            for sql in queries:
                got = used_columns(sql, relation, columns)
                if got is None:
                    unknown = unknown or relation.rpartition(".")[2].lower() in sql.lower()
                else:
                    used |= got
            if used or unknown:
                node = self.lineage.nodes.get(path)
                out.append(Consumer(kind="dag", name=node.name if node else path.rsplit("/", 1)[-1][:-3], path=path,
                                    columns=None if unknown else tuple(sorted(used)), how="SQL in the DAG file"))
        return out

    def model_consumers(self, model: str, columns: Mapping[str, str]) -> list[Consumer]:
        """Models/tests that ``ref()`` ``model`` (with the columns they use), DAG SQL reading it, DAGs running it."""
        path = next((p for p, n in self.lineage.nodes.items() if n.kind in ("model", "snapshot") and n.name == model),
                    None)
        if path is None:
            return []
        out: list[Consumer] = []
        for dep in sorted(self.lineage.reverse().get(path, ())):
            node = self.lineage.nodes[dep]
            if node.kind in ("model", "snapshot", "test", "analysis"):
                found = self._dbt_consumer(dep, model, columns, "ref() in its SQL")
                if found is not None:
                    out.append(found)
        sql_dags = self._dag_consumers(model, columns)
        out += sql_dags
        runners = {c.path for c in sql_dags}
        for dep in sorted(self.lineage.reverse().get(path, ())):
            node = self.lineage.nodes[dep]
            if node.kind == "dag" and dep not in runners:
                out.append(Consumer(kind="dag", name=node.name, path=dep, columns=(), how="runs the model"))
        return out

    def source_consumers(self, relation: str, columns: Mapping[str, str]) -> list[Consumer]:
        """Models reading the source declared on ``relation`` (``schema.identifier``), with the columns they use."""
        keys = {k for k, rel in self.sources.items() if rel.lower() == relation.lower()}
        if not keys:
            return []
        decl = {p for p, n in self.lineage.nodes.items() if n.kind == "yaml"}
        out = []
        for path, node in sorted(self.lineage.nodes.items()):
            if node.kind in ("model", "snapshot") and node.deps & decl and \
                    keys & set(parse_template(self.read(path), path).sources):
                found = self._dbt_consumer(path, relation, columns, "source() in its SQL")
                if found is not None:
                    out.append(found)
        return out + self._dag_consumers(relation, columns)
