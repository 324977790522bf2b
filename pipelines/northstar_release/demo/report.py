"""Step records, the rollback timing and the summary the demo ends with (table, and one JSON document)."""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass, field
from typing import Any

from rich.console import Console
from rich.table import Table


# ----------------------------------------------------------------------------------------------- records/report ---
@dataclass
class StepRecord:
    step: str
    expected: str
    result: str = ""
    ok: bool = False
    seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {"step": self.step, "expected": self.expected, "result": self.result, "ok": self.ok,
                "seconds": round(self.seconds, 3)}


@dataclass
class RollbackTiming:
    seconds: float | None = None  # wall time of the `./release rollback` process
    engine_s: float | None = None
    component_s: float | None = None
    rows_recomputed: int | None = None  # None: no warehouse evidence (adapter not available)

    def to_json(self) -> dict[str, Any]:
        return {"seconds": self.seconds, "engine_s": self.engine_s, "component_s": self.component_s,
                "rows_recomputed": self.rows_recomputed}


@dataclass
class HealthOutcome:
    """What chapter (f) measured (the demo's JSON ``health_watch``)."""

    regressions: list[str] = field(default_factory=list)
    rolled_back_to: str | None = None
    detection_to_rollback_s: float | None = None
    watch_command_s: float | None = None
    dashboard: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"regressions": self.regressions, "rolled_back_to": self.rolled_back_to,
                "detection_to_rollback_s": self.detection_to_rollback_s, "watch_command_s": self.watch_command_s,
                "dashboard": self.dashboard}


@dataclass
class DemoReport:
    steps: list[StepRecord] = field(default_factory=list)
    rollback: RollbackTiming = field(default_factory=RollbackTiming)
    prod_tables_unchanged: bool = False
    health: HealthOutcome = field(default_factory=HealthOutcome)  # chapter (f)
    workdir: str | None = None
    error: str | None = None  # set for usage/set-up errors (exit 2)

    @property
    def ok(self) -> bool:
        return self.error is None and bool(self.steps) and all(s.ok for s in self.steps)

    def exit_code(self) -> int:
        if self.error is not None:
            return 2
        return 0 if self.ok else 1

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"ok": self.ok, "steps": [s.to_json() for s in self.steps],
                               "rollback": self.rollback.to_json(),
                               "prod_tables_unchanged": self.prod_tables_unchanged, "workdir": self.workdir,
                               "health_watch": self.health.to_json()}
        if self.error is not None:
            doc["error"] = self.error
            doc["exit_code"] = 2
        return doc


def summary_table(report: DemoReport) -> Table:
    table = Table(title="release demo: summary")
    table.add_column("step")
    table.add_column("expected")
    table.add_column("result")
    table.add_column("seconds", justify="right")
    for s in report.steps:
        mark = "[green]ok[/]" if s.ok else "[red]FAILED[/]"
        table.add_row(s.step, s.expected, f"{mark} {_escape(s.result)}", f"{s.seconds:.1f}")
    return table


def render(report: DemoReport, *, as_json: bool, out: Console, err: Console) -> None:
    """The ending: the summary table (stdout, or stderr under --json) and, with --json, exactly one JSON document."""
    if report.error is not None:
        err.print(f"[bold red]ERROR[/]: {_escape(report.error)}", highlight=False)
    if report.steps:
        (err if as_json else out).print(summary_table(report))
        verdict = "every expectation held" if report.ok else \
            f"{sum(not s.ok for s in report.steps)} expectation(s) did not hold"
        err.print(f"demo: {verdict}; work dir {report.workdir}", highlight=False, markup=False)
        if report.health.dashboard:
            err.print(f"health dashboard: {report.health.dashboard}", highlight=False, markup=False)
    if as_json:
        out.file.write(json.dumps(report.to_json(), indent=2, sort_keys=True) + "\n")
        out.file.flush()


def _console(*, stderr: bool) -> Console:
    """Rich console; when not a terminal (CI logs, pipes) wide enough that the summary table stays readable."""
    stream = sys.stderr if stderr else sys.stdout
    width = None if stream.isatty() else int(os.environ.get("COLUMNS", "0") or 0) or 200
    return Console(stderr=stderr, soft_wrap=True, width=width)


def _escape(text: str) -> str:
    return text.replace("[", r"\[")
