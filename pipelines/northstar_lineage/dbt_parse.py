"""Read dbt files with Jinja2's own parser: which models a file `ref()`s, which sources it reads, which macros it calls
or defines, and the tags its `config()` sets.

Why Jinja2's parser and not regexes: dbt files are Jinja templates. A regex cannot tell `{{ ref('x') }}` from the same
text in a comment (`{# ref('x') #}`) or a string, nor find a call split over lines, nested in `{% if %}` or passed as a
macro argument. The parser builds the template's syntax tree; we walk its `Call` nodes. Nothing is rendered (no
database, no dbt context), so parsing is fast (~1 ms per model) and works inside Pants (Python 3.9, Jinja2 from
[GLOBAL].plugins) and in the release engine (Python 3.11, Jinja2 from the tools resolve) alike: one parser, one
source of truth for lineage.

Kept compatible with Python 3.9 (the Pants runtime): no `match`, no runtime `X | Y`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import jinja2
from jinja2 import nodes
from jinja2.ext import Extension

# Names that look like macro calls but are dbt/Jinja built-ins: never resolved to a macro file.
_BUILTINS = frozenset({
    "ref", "source", "config", "var", "env_var", "is_incremental", "return", "log", "print", "adapter", "run_query",
    "statement", "load_result", "exceptions", "modules", "range", "dict", "list", "zip", "set", "tojson", "fromjson",
    "toyaml", "fromyaml", "caller", "super", "loop", "this", "target", "execute", "graph", "model",
})


class LineageParseError(ValueError):
    """A dbt file Jinja2 cannot parse; the message names the file and line (the same error dbt would report)."""


class _DbtBlockTags(Extension):
    """dbt's own block tags: `{% test name(args) %}` (a generic test, i.e. a macro named `test_<name>`),
    `{% materialization name, adapter='x' %}`, `{% snapshot name %}`, `{% docs name %}`. Parsed like dbt does: the first
    two as macros, the last two as plain blocks, so macro definitions and the calls inside are all in the tree."""

    tags = {"test", "materialization", "snapshot", "docs"}

    def parse(self, parser: Any) -> Any:
        token = next(parser.stream)
        tag = token.value
        name = parser.parse_assign_target(name_only=True).name
        if tag == "test":
            node = nodes.Macro(lineno=token.lineno)
            node.name = f"test_{name}"
            parser.parse_signature(node)
            node.body = parser.parse_statements(("name:endtest",), drop_needle=True)
            return node
        if tag == "materialization":
            while parser.stream.current.type != "block_end":  # `, adapter='duckdb'` and the like
                next(parser.stream)
            node = nodes.Macro(lineno=token.lineno)
            node.name = f"materialization_{name}"
            node.args, node.defaults = [], []
            node.body = parser.parse_statements(("name:endmaterialization",), drop_needle=True)
            return node
        body = parser.parse_statements((f"name:end{tag}",), drop_needle=True)
        return nodes.Scope(body, lineno=token.lineno)


def environment() -> jinja2.Environment:
    # Parse only, never render (nothing here produces HTML), so autoescape is irrelevant.
    return jinja2.Environment(extensions=[_DbtBlockTags, "jinja2.ext.do", "jinja2.ext.loopcontrols"])  # noqa: S701


_ENV: jinja2.Environment | None = None


def _env() -> jinja2.Environment:
    global _ENV
    if _ENV is None:
        _ENV = environment()
    return _ENV


@dataclass
class DbtRefs:
    """What one dbt file (model, singular test, macro file, snapshot) refers to."""

    refs: list[tuple[str | None, str]] = field(default_factory=list)  # (package or None, model/seed name)
    sources: list[tuple[str, str]] = field(default_factory=list)  # (source name, table name)
    macro_calls: list[tuple[str | None, str]] = field(default_factory=list)  # (namespace or None, macro name)
    macros_defined: list[str] = field(default_factory=list)
    config_tags: list[str] = field(default_factory=list)


def _const_str(node: Any) -> str | None:
    return node.value if isinstance(node, nodes.Const) and isinstance(node.value, str) else None


def _string_list(node: Any) -> list[str]:
    if isinstance(node, (nodes.List, nodes.Tuple)):  # noqa: UP038 -- `X | Y` in isinstance needs 3.10 (Pants: 3.9)
        return [s for s in (_const_str(item) for item in node.items) if s is not None]
    single = _const_str(node)
    return [single] if single is not None else []


def _walk(tree: Any) -> DbtRefs:
    out = DbtRefs()
    for macro in tree.find_all(nodes.Macro):
        out.macros_defined.append(macro.name)
    for call in tree.find_all(nodes.Call):
        target = call.node
        args = [_const_str(a) for a in call.args]
        if isinstance(target, nodes.Name):
            name = target.name
            if name == "ref":
                consts = [a for a in args if a is not None]
                if len(consts) == 1:
                    out.refs.append((None, consts[0]))
                elif len(consts) >= 2:
                    out.refs.append((consts[0], consts[1]))
            elif name == "source":
                if len(args) >= 2 and args[0] is not None and args[1] is not None:
                    out.sources.append((args[0], args[1]))
            elif name == "config":
                for kw in call.kwargs:
                    if kw.key == "tags":
                        out.config_tags.extend(_string_list(kw.value))
            elif name not in _BUILTINS:
                out.macro_calls.append((None, name))
        elif isinstance(target, nodes.Getattr) and isinstance(target.node, nodes.Name):
            if target.node.name not in _BUILTINS:
                out.macro_calls.append((target.node.name, target.attr))
    return out


def parse_template(text: str, path: str) -> DbtRefs:
    """Parse one dbt SQL/Jinja file. Raises ``LineageParseError`` naming ``path`` and the line on bad Jinja."""
    try:
        tree = _env().parse(text)
    except jinja2.TemplateSyntaxError as exc:
        raise LineageParseError(f"{path}:{exc.lineno}: dbt Jinja does not parse: {exc.message}") from exc
    return _walk(tree)


def parse_expression(text: str, path: str) -> DbtRefs:
    """Parse a Jinja expression found in YAML (e.g. a unit test's ``input: ref('stg_x')`` or a relationships test's
    ``to: ref('dim_x')``)."""
    return parse_template("{{ " + text + " }}", path)
