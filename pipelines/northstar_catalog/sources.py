"""Read pipelines/catalog/sources.yaml (the shared source-system contract) into lookups the cross-checks need."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from northstar_catalog import strict_yaml
from northstar_catalog.problems import CatalogError, Problem


@dataclass(frozen=True)
class SourceTable:
    system: str
    kind: str  # postgres | kafka | s3
    name: str
    tags: frozenset[str]
    columns: tuple[tuple[str, str], ...]
    topic: str | None = None
    prefix: str | None = None
    file_format: str | None = None

    @property
    def bronze(self) -> str:
        """Naming contract: bronze.<system>__<name>."""
        return f"bronze.{self.system}__{self.name}"


@dataclass(frozen=True)
class Sources:
    tables: dict[str, SourceTable]  # "<system>__<name>" -> table

    def postgres(self, ref: str) -> SourceTable | None:
        system, _, name = ref.partition(".")
        table = self.tables.get(f"{system}__{name}")
        return table if table and table.kind == "postgres" else None

    def topic(self, topic: str) -> SourceTable | None:
        return next((t for t in self.tables.values() if t.topic == topic), None)

    def prefix(self, prefix: str) -> SourceTable | None:
        return next((t for t in self.tables.values() if t.prefix == prefix.strip("/")), None)


def load_sources(path: Path, display: str) -> Sources:
    doc = strict_yaml.load(path, display)
    tables: dict[str, SourceTable] = {}
    try:
        for system, body in doc.data["systems"].items():
            for name, spec in body["tables"].items():
                tables[f"{system}__{name}"] = SourceTable(
                    system, body["kind"], name, frozenset(spec.get("tags", ())), tuple(spec["columns"].items()),
                    spec.get("topic"), spec.get("prefix"), spec.get("format"))
    except (KeyError, TypeError, AttributeError) as exc:
        raise CatalogError([Problem(display, "systems", None, "shape", f"sources.yaml is not systems.<system>.tables: {exc}")]) from None
    return Sources(tables)
