"""The generator's column lists are exactly sources.yaml's (names, order, logical types, topics and prefixes)."""

from __future__ import annotations

from pathlib import Path

import yaml

from northstar_synthetic import TABLES

SOURCES = Path("pipelines/catalog/sources.yaml")


def test_schema_copy_matches_sources_yaml() -> None:
    spec = yaml.safe_load(SOURCES.read_text())
    expected = {}
    for system, body in spec["systems"].items():
        for name, table in body["tables"].items():
            expected[f"{system}__{name}"] = (list(table["columns"].items()), table.get("topic") or table.get("prefix") or "",
                                             table.get("format", "json" if system == "kafka" else "csv"))
    actual = {k: (list(t.columns), t.location, t.file_format) for k, t in TABLES.items()}
    assert actual == expected
    assert len(actual) == 37
