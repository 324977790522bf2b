"""A model's primary key, as the dbt project declares it through its tests.

Why from the tests and not from a new setting: a key the project already enforces (a column with a ``unique`` test, or
a ``dbt_utils.unique_combination_of_columns`` test on the model) is a key someone reviewed; a second place to declare
keys would drift from it. A model without such a test has no declared key: the diff then compares whole rows (every
common column is the key) and cannot judge uniqueness, and the verdict says so.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from northstar_dq.thresholds import ConfigError, _load_yaml

COMBINATION_TEST = "unique_combination_of_columns"  # dbt_utils., northstar_utils. or unqualified


def _tests(node: dict[str, Any]) -> list[Any]:
    return list(node.get("data_tests") or []) + list(node.get("tests") or [])


def _test_name(test: Any) -> str:
    if isinstance(test, str):
        return test
    if isinstance(test, dict) and len(test) == 1:
        return str(next(iter(test)))
    return ""


def key_from_entry(entry: dict[str, Any]) -> tuple[str, ...]:
    """The key one schema-YAML model entry declares: a model-level unique combination of columns (any package's
    ``*.unique_combination_of_columns``) first, else the first column
    whose tests include ``unique``; () when none."""
    for test in _tests(entry):
        name = _test_name(test)
        if name.rsplit(".", 1)[-1] == COMBINATION_TEST and isinstance(test, dict):
            body = test[name] or {}
            args = body.get("arguments", body) if isinstance(body, dict) else {}
            cols = args.get("combination_of_columns") if isinstance(args, dict) else None
            if isinstance(cols, list) and cols and all(isinstance(c, str) for c in cols):
                return tuple(cols)
    for col in entry.get("columns", []) or []:
        if isinstance(col, dict) and "name" in col and any(_test_name(t) == "unique" for t in _tests(col)):
            return (str(col["name"]),)
    return ()


def model_key(project_dir: Path, model: str) -> tuple[str, ...]:
    """The declared key of ``model`` in the dbt project at ``project_dir`` (() when it declares none)."""
    project = _load_yaml(project_dir / "dbt_project.yml") or {}
    for rel in list(project.get("model-paths", ["models"])):
        for yml in sorted((project_dir / rel).rglob("*.y*ml")):
            doc = _load_yaml(yml) or {}
            if not isinstance(doc, dict):
                continue
            for entry in doc.get("models", []) or []:
                if isinstance(entry, dict) and entry.get("name") == model:
                    return key_from_entry(entry)
    return ()


__all__ = ["ConfigError", "key_from_entry", "model_key"]
