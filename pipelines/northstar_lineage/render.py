"""Render a dbt model's Jinja to plain SQL without dbt, for column-level lineage (``columns.py``).

Why not dbt's compiler: it needs a parsed manifest and an adapter (the dbt resolve, seconds per project), while the
release engine needs the SQL of a few consumers at plan/gate time, in its own resolve. The platform's models use a
small, known Jinja surface (``ref``, ``source``, ``config``, ``is_incremental``, ``var`` and the ``northstar_utils``
package macros), so the template is rendered with Jinja2 itself: ``ref('m')`` becomes the relation ``m``,
``source('s', 't')`` the source's ``schema.identifier`` (the bronze table the Spark job writes), ``is_incremental()``
is false (the full-refresh query reads every column the incremental one does), and package macros are the package's
own macro files, imported as Jinja modules. A template using anything else fails to render with an error naming the
file: the caller then falls back to treating every column as used (never to "unused").

Python 3.9 compatible like the rest of the package (not imported by the Pants plugin, which needs no rendering).
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping
from typing import Any

import jinja2


class RenderError(ValueError):
    """The model's Jinja uses something this renderer does not provide; the message names the file."""


class _Namespace:
    def __init__(self, macros: Mapping[str, Any]) -> None:
        self._macros = dict(macros)

    def __getattr__(self, name: str) -> Any:
        try:
            return self._macros[name]
        except KeyError:
            raise AttributeError(name) from None


def package_macros(contents: Mapping[str, str], dbt_root: str = "dbt") -> dict[str, _Namespace]:
    """package name -> namespace of its macros, from ``<dbt_root>/dbt_packages/<pkg>/macros/*.sql`` in ``contents``."""
    env = jinja2.Environment(undefined=jinja2.StrictUndefined)  # noqa: S701 -- renders SQL, not HTML
    by_package: dict[str, dict[str, Any]] = {}
    prefix = f"{dbt_root}/dbt_packages/"
    for path in sorted(contents):
        parts = path[len(prefix):].split("/") if path.startswith(prefix) else []
        if len(parts) >= 3 and parts[1] == "macros" and path.endswith(".sql"):
            try:
                module = env.from_string(contents[path]).module
            except jinja2.TemplateError:
                continue  # a macro file this renderer cannot load: models calling it fail to render (named)
            names = [n for n in dir(module) if not n.startswith("_")]
            by_package.setdefault(parts[0], {}).update({n: getattr(module, n) for n in names})
    return {pkg: _Namespace(macros) for pkg, macros in by_package.items()}


def render_model(text: str, path: str, sources: Mapping[tuple[str, str], str],
                 packages: Mapping[str, _Namespace] | None = None) -> str:
    """``text`` (a dbt model) as SQL; ``sources`` maps (source, table) to ``schema.identifier``."""

    def ref(*args: str, **_: Any) -> str:
        return args[-1]

    def source(name: str, table: str) -> str:
        return sources.get((name, table), f"{name}.{table}")

    env = jinja2.Environment(undefined=jinja2.StrictUndefined)  # noqa: S701 -- renders SQL, not HTML
    context: dict[str, Any] = {
        "ref": ref, "source": source, "config": lambda *a, **k: "", "is_incremental": lambda: False,
        "var": lambda name, default=None: default, "this": posixpath.splitext(posixpath.basename(path))[0],
        "target": {"name": "duckdb", "type": "duckdb"},
    }
    context.update(packages or {})
    try:
        return env.from_string(text).render(**context)
    except (jinja2.TemplateError, TypeError, AttributeError) as exc:
        raise RenderError(f"{path}: cannot render without dbt ({type(exc).__name__}: {exc})") from exc
