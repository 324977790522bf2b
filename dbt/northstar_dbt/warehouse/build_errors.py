"""The root cause of a failed SQLMesh build: which model failed, on which column, with its own SQL error.

Why: ``context.apply`` only raises ``PlanError("Plan application failed.")``; the failing node's error goes to the
console, which the entry point silences. The audits that ran afterwards then failed on the *downstream* symptom
("Table ... does not exist"), and that symptom was all a gate reported. :func:`capturing` swaps in a console that
keeps SQLMesh's ``NodeExecutionFailedError`` list; :func:`failures` turns each into (model, column, message) -- the
column taken from DuckDB's binder message (``Referenced column "x" not found``), so a new model referencing a
missing column names that column.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from northstar_dbt.warehouse.engine import short_name

_COLUMN = re.compile(r'(?:referenced column|column named|column with name|column) "([^"]+)"', re.IGNORECASE)


@dataclass(frozen=True)
class BuildFailure:
    model: str
    column: str | None
    message: str
    audit: bool = False  # a blocking audit failed on a built table (the audits report it), not the SQL itself

    def describe(self) -> str:
        where = f", column {self.column}" if self.column else ""
        return f"model {self.model} failed to build{where}: {self.message}"


def _console_class() -> Any:
    from sqlmesh.core.console import NoopConsole

    class FailureCapture(NoopConsole):  # type: ignore[misc]
        def __init__(self) -> None:
            super().__init__()
            self.failed: list[Any] = []

        def log_failed_models(self, errors: list[Any]) -> None:
            self.failed.extend(errors)

    return FailureCapture


@contextlib.contextmanager
def capturing(context: Any) -> Iterator[Any]:
    """While applying a plan: a silent console that keeps the failed nodes (``.failed``)."""
    from sqlmesh.core.console import get_console, set_console

    capture = _console_class()()
    old_global, old_context = get_console(), context.console
    set_console(capture)
    context.console = capture
    try:
        yield capture
    finally:
        context.console = old_context
        set_console(old_global)


def _node_name(node: Any) -> str:
    name = getattr(node, "snapshot_name", None) or getattr(node, "name", None)  # EvaluateNode or SnapshotId
    return short_name(str(name if name is not None else node))


def failures(errors: list[Any], exc: BaseException) -> list[BuildFailure]:
    """One failure per failed node (the root causes; SQLMesh skips what is downstream of them), or the exception."""
    out = []
    for err in errors:
        cause = err.__cause__ or err
        message = f"{type(cause).__name__}: {str(cause).strip()}"[:1500]
        match = _COLUMN.search(str(cause))
        out.append(BuildFailure(model=_node_name(getattr(err, "node", "?")), column=match.group(1) if match else None,
                                message=message, audit="Audit" in type(cause).__name__))
    if not out:
        out.append(BuildFailure(model="?", column=None, message=f"{type(exc).__name__}: {str(exc)[:1500]}"))
    return out


def sql_failed(found: list[BuildFailure]) -> bool:
    """True when a known model's SQL itself failed (its table is missing: audits would only hit that downstream).
    An unattributed failure (no failed node captured) keeps the audits running: they may be what failed."""
    return any(not f.audit and f.model != "?" for f in found)


def summary(found: list[BuildFailure]) -> str:
    return "; ".join(f.describe() for f in found)
