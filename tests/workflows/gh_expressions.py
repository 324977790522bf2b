"""GitHub Actions expressions (``${{ }}`` and ``if:``), evaluated the way GitHub does, for the local runner.

Why its own module: the expression language (loose equality, truthiness, status functions, the handful of built-in
functions) is a self-contained grammar with its own tests; the runner in ``ci_local`` only calls ``interpolate`` and
``condition``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from typing import Any

EXPR = re.compile(r"\$\{\{\s*(.*?)\s*\}\}", re.S)
TOKEN = re.compile(r"""\s*(?:(?P<num>-?\d+(?:\.\d+)?)|(?P<str>'(?:[^']|'')*')|(?P<op>==|!=|<=|>=|&&|\|\||[!<>()\[\].,*])
                    |(?P<name>[A-Za-z_][A-Za-z0-9_-]*))""", re.X)


class WorkflowError(Exception):
    """The workflow cannot be run locally (bad YAML, unknown job, unsupported expression); exit 2."""


def _tokens(text: str) -> list[tuple[str, str]]:
    out, pos = [], 0
    text = text.strip()
    while pos < len(text):
        match = TOKEN.match(text, pos)
        if not match or match.end() == pos:
            raise WorkflowError(f"cannot parse expression {text!r} at {text[pos:]!r}")
        kind = match.lastgroup
        assert kind is not None
        out.append((kind, match.group(kind)))
        pos = match.end()
        while pos < len(text) and text[pos].isspace():
            pos += 1
    return out


def _truthy(value: Any) -> bool:
    return value not in (None, False, 0, "", 0.0)


def _loose_eq(a: Any, b: Any) -> bool:
    if isinstance(a, str) and isinstance(b, str):
        return a.lower() == b.lower()  # GitHub compares strings case-insensitively
    return bool(a == b)


def _as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value)
    return str(value)


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "contains": lambda hay, needle: (str(needle).lower() in str(hay).lower()) if isinstance(hay, str)
    else any(_loose_eq(x, needle) for x in (hay or [])),
    "startsWith": lambda s, p: str(s).lower().startswith(str(p).lower()),
    "endsWith": lambda s, p: str(s).lower().endswith(str(p).lower()),
    "format": lambda fmt, *args: re.sub(r"\{(\d+)\}", lambda m: _as_text(args[int(m.group(1))]), str(fmt)),
    "join": lambda items, sep=",": str(sep).join(_as_text(x) for x in items) if isinstance(items, list) else _as_text(items),
    "toJSON": lambda value: json.dumps(value, indent=2),
    "fromJSON": lambda text: json.loads(text),
}


class _Parser:
    """Recursive descent over GitHub's expression grammar: || && ! comparisons, literals, contexts, calls."""

    def __init__(self, text: str, context: Mapping[str, Any], status: Mapping[str, bool]) -> None:
        self.tokens = _tokens(text)
        self.pos = 0
        self.context = context
        self.status = status

    def _peek(self) -> tuple[str, str] | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def _take(self, value: str | None = None) -> tuple[str, str]:
        token = self._peek()
        if token is None or (value is not None and token[1] != value):
            raise WorkflowError(f"expected {value or 'a value'} in expression, got {token}")
        self.pos += 1
        return token

    def parse(self) -> Any:
        value = self._or()
        if self._peek() is not None:
            raise WorkflowError(f"unexpected {self._peek()} in expression")
        return value

    def _or(self) -> Any:
        value = self._and()
        while self._peek() == ("op", "||"):
            self._take()
            right = self._and()
            value = value if _truthy(value) else right
        return value

    def _and(self) -> Any:
        value = self._cmp()
        while self._peek() == ("op", "&&"):
            self._take()
            right = self._cmp()
            value = right if _truthy(value) else value
        return value

    def _cmp(self) -> Any:
        value = self._unary()
        token = self._peek()
        if token and token[1] in ("==", "!=", "<", ">", "<=", ">="):
            self._take()
            right = self._unary()
            op = token[1]
            if op == "==":
                return _loose_eq(value, right)
            if op == "!=":
                return not _loose_eq(value, right)
            comparisons: dict[str, Callable[[Any, Any], bool]] = {
                "<": lambda a, b: a < b, ">": lambda a, b: a > b, "<=": lambda a, b: a <= b, ">=": lambda a, b: a >= b}
            return comparisons[op](value, right)
        return value

    def _unary(self) -> Any:
        if self._peek() == ("op", "!"):
            self._take()
            return not _truthy(self._unary())
        return self._primary()

    def _primary(self) -> Any:
        kind, text = self._take()
        if kind == "num":
            return float(text) if "." in text else int(text)
        if kind == "str":
            return text[1:-1].replace("''", "'")
        if text == "(":
            inner = self._or()
            self._take(")")
            return inner
        if kind != "name":
            raise WorkflowError(f"unexpected {text!r} in expression")
        if text in ("true", "false", "null"):
            return {"true": True, "false": False, "null": None}[text]
        value: Any = self._call(text) if self._peek() == ("op", "(") else self.context.get(text)
        while self._peek() in (("op", "."), ("op", "[")):
            if self._take()[1] == ".":
                key: Any = self._take()[1]
            else:
                key = self._or()
                self._take("]")
            if isinstance(value, dict):
                value = value.get(key)
            elif isinstance(value, list) and isinstance(key, int) and 0 <= key < len(value):
                value = value[key]
            else:
                value = None
        return value

    def _call(self, name: str) -> Any:
        self._take("(")
        args = []
        while self._peek() != ("op", ")"):
            args.append(self._or())
            if self._peek() == ("op", ","):
                self._take()
        self._take(")")
        if name in ("success", "failure", "always", "cancelled"):
            return {"success": not self.status["failed"], "failure": self.status["failed"], "always": True,
                    "cancelled": False}[name]
        if name not in FUNCTIONS:
            raise WorkflowError(f"expression function {name}() is not supported by ci-local")
        return FUNCTIONS[name](*args)


def evaluate(expression: str, context: Mapping[str, Any], failed: bool = False) -> Any:
    """Value of one expression (the text inside ``${{ }}``, or a bare ``if:``)."""
    return _Parser(expression, context, {"failed": failed}).parse()


def interpolate(text: Any, context: Mapping[str, Any]) -> str:
    """Replace every ``${{ expr }}`` in ``text``."""
    return EXPR.sub(lambda m: _as_text(evaluate(m.group(1), context)), _as_text(text))


def condition(raw: Any, context: Mapping[str, Any], failed: bool) -> bool:
    """A job/step ``if:``: a bare expression or one ``${{ }}``; with no status function, ``success() &&`` is implied."""
    if raw is None:
        return not failed
    text = str(raw).strip()
    whole = EXPR.fullmatch(text)
    if whole:
        text = whole.group(1)
    value = _truthy(evaluate(text, context, failed))
    if not re.search(r"\b(always|failure|cancelled|success)\s*\(", text):
        value = value and not failed
    return value
