"""Per-model data-quality thresholds, declared in the dbt project (`meta: {data_quality: {...}}`).

Why in dbt `meta`: the people who own a model's SQL also own what "too different from prod" means for it, and `meta`
is dbt's own place for such settings, so the thresholds are reviewed in the same change as the model. Resolution order
(later wins): built-in defaults per layer, folder-level `+meta` in dbt_project.yml, the model's own `meta`/`config.meta`
in a schema YAML. The layer is the first folder under the model path (staging, intermediate, marts).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml  # type: ignore[import-untyped]  # pants: no-infer-dep (installed by dbt-core, see dbt/BUILD)
from pydantic import BaseModel, ConfigDict, Field, ValidationError  # pants: no-infer-dep (installed by dbt-core, see dbt/BUILD)


class ConfigError(ValueError):
    """Bad input in the dbt project (unknown key, wrong type, missing model). The message names the file and rule."""


class Thresholds(BaseModel):
    """Limits for one model. Percentages are of prod's row count (or, for nulls, percentage points of the column)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    max_row_count_delta_pct: float = Field(ge=0)
    max_rows_added_pct: float = Field(ge=0)
    max_rows_removed_pct: float = Field(ge=0)
    max_rows_changed_pct: float = Field(ge=0)
    max_null_rate_increase_pct: float = Field(ge=0)
    require_unique_key: bool = True


# Staging mirrors sources (volume moves with ingestion), marts are what finance reads (tight).
LAYER_DEFAULTS: dict[str, dict[str, Any]] = {
    "staging": {"max_row_count_delta_pct": 25.0, "max_rows_added_pct": 50.0, "max_rows_removed_pct": 10.0,
                "max_rows_changed_pct": 25.0, "max_null_rate_increase_pct": 5.0},
    "intermediate": {"max_row_count_delta_pct": 20.0, "max_rows_added_pct": 30.0, "max_rows_removed_pct": 10.0,
                     "max_rows_changed_pct": 20.0, "max_null_rate_increase_pct": 2.0},
    "marts": {"max_row_count_delta_pct": 10.0, "max_rows_added_pct": 15.0, "max_rows_removed_pct": 5.0,
              "max_rows_changed_pct": 10.0, "max_null_rate_increase_pct": 1.0},
}
# A model outside the three layers gets the strictest set: unknown means unreviewed.
FALLBACK_LAYER = "marts"


class ModelSpec(BaseModel):
    """What the diff needs to know about a model from the dbt project."""

    model_config = ConfigDict(frozen=True)

    name: str
    layer: str
    thresholds: Thresholds
    pii_columns: frozenset[str] = frozenset()
    sources: tuple[str, ...] = ()  # files the thresholds came from, for the evidence


def _load_yaml(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path}: cannot read YAML ({type(exc).__name__})") from exc


def _dq_block(meta: Any, where: str) -> dict[str, Any]:
    if meta is None:
        return {}
    if not isinstance(meta, dict):
        raise ConfigError(f"{where}: meta must be a mapping")
    block = meta.get("data_quality", {})
    if not isinstance(block, dict):
        raise ConfigError(f"{where}: meta.data_quality must be a mapping of threshold names to values")
    unknown = sorted(set(block) - set(Thresholds.model_fields))
    if unknown:
        raise ConfigError(f"{where}: unknown data_quality key(s) {unknown}; allowed: {sorted(Thresholds.model_fields)}")
    return dict(block)


def _folder_meta(project_file: Path, project: dict[str, Any], layer: str) -> dict[str, Any]:
    """`models: {<project>: {<layer>: {+meta: {data_quality: ...}}}}` and the project-wide level above it."""
    models = (project.get("models") or {}).get(project.get("name", ""), {}) or {}
    merged: dict[str, Any] = {}
    for level, where in ((models, "models"), ((models.get(layer) or {}), f"models.{layer}")):
        if isinstance(level, dict):
            merged.update(_dq_block(level.get("+meta", level.get("meta")), f"{project_file} ({where}.+meta)"))
    return merged


def _model_layer(project_dir: Path, model_paths: list[str], model: str) -> tuple[str, bool]:
    for rel in model_paths:
        root = project_dir / rel
        for sql in sorted(root.rglob(f"{model}.sql")):
            parts = sql.relative_to(root).parts
            return (parts[0] if len(parts) > 1 else FALLBACK_LAYER), True
    return FALLBACK_LAYER, False


def _model_entry(project_dir: Path, model_paths: list[str], model: str) -> tuple[Path, dict[str, Any]] | None:
    for rel in model_paths:
        for yml in sorted((project_dir / rel).rglob("*.y*ml")):
            doc = _load_yaml(yml) or {}
            for entry in doc.get("models", []) or []:
                if isinstance(entry, dict) and entry.get("name") == model:
                    return yml, entry
    return None


def _pii_columns(entry: dict[str, Any]) -> frozenset[str]:
    """Columns tagged `pii` (dbt `tags: [pii]`, `config: {tags: [pii]}` or `meta: {pii: true}`)."""
    out = set()
    for col in entry.get("columns", []) or []:
        if not isinstance(col, dict) or "name" not in col:
            continue
        tags = list(col.get("tags", []) or []) + list((col.get("config") or {}).get("tags", []) or [])
        meta = {**(col.get("meta") or {}), **((col.get("config") or {}).get("meta") or {})}
        if "pii" in tags or meta.get("pii") is True:
            out.add(str(col["name"]))
    return frozenset(out)


def load_model_spec(project_dir: Path, model: str) -> ModelSpec:
    """Thresholds and PII columns for `model`, read from the dbt project at `project_dir`."""
    project_file = project_dir / "dbt_project.yml"
    if not project_file.is_file():
        raise ConfigError(f"{project_file}: not found (pass --project with the dbt project folder)")
    project = _load_yaml(project_file) or {}
    model_paths = list(project.get("model-paths", ["models"]))
    layer, found_sql = _model_layer(project_dir, model_paths, model)
    entry = _model_entry(project_dir, model_paths, model)
    if not found_sql and entry is None:
        raise ConfigError(f"{project_dir}: model {model!r} has no SQL file and no schema entry under {model_paths}")
    values: dict[str, Any] = dict(LAYER_DEFAULTS.get(layer, LAYER_DEFAULTS[FALLBACK_LAYER]))
    sources = [f"defaults:{layer if layer in LAYER_DEFAULTS else FALLBACK_LAYER}"]
    folder = _folder_meta(project_file, project, layer)
    if folder:
        values.update(folder)
        sources.append(str(project_file))
    pii: frozenset[str] = frozenset()
    if entry is not None:
        yml, body = entry
        where = f"{yml} (model {model})"
        own = {**_dq_block(body.get("meta"), where), **_dq_block((body.get("config") or {}).get("meta"), where)}
        if own:
            values.update(own)
            sources.append(str(yml))
        pii = _pii_columns(body)
    try:
        thresholds = Thresholds(**values)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise ConfigError(f"{' / '.join(sources[1:]) or project_file}: data_quality.{first['loc'][0]}: {first['msg']}") from exc
    return ModelSpec(name=model, layer=layer, thresholds=thresholds, pii_columns=pii, sources=tuple(sources))
