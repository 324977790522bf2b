"""Load every DAG file alone, in its own process forked from a warmed parent, as Airflow's scheduler does; time it.

Why one process per file: a DagBag over a folder imports its files one after another in one interpreter, so the first
file pays for Airflow's operators and providers, and a file importing a slow library an earlier file already imported
is charged nothing -- import caching hides it. The scheduler instead parses each file in a fresh process forked from a
parent that has imported Airflow, after pre-importing the file's own ``airflow.*`` imports
(``[scheduler] parsing_pre_import_modules``). This module does exactly that, so each file gets the parse time the
scheduler will see (a top-level ``time.sleep(2)`` shows as 2 s on that file and on no other). Spawning a brand-new
interpreter per file would charge Airflow's own import (2-4 s here) to every file and cost that much CPU per file;
forking the warmed parent costs milliseconds. At most ``workers`` children run at once.

Each child also runs the per-DAG checks (``hygiene``) on the DAGs it loaded and sends back plain data: the DAG ids,
the import error, the violations, and for a file that yields no DAG the likely cause (a failed guarded import).
"""

from __future__ import annotations

import ast
import importlib
import multiprocessing
import os
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Any, cast

from northstar_airflow import hygiene
from northstar_airflow.catalog_expectations import TaskExpectation

HARD_TIMEOUT_S = 120.0
"""A child still parsing after this long is killed (Airflow's own dagbag_import_timeout, 30 s, normally fires first)."""


@dataclass(frozen=True)
class FileToProbe:
    path: str
    display: str  # ``<folder>/<relative path>``, as in the report


def warm_up(paths: Sequence[str] = ()) -> None:
    """Pay Airflow's one-time process costs in the parent, as the scheduler's long-lived parent already has.

    Also imports, once, every ``airflow.*`` module the files import: the scheduler pre-imports them in each child
    before the timed parse, so importing them before forking changes no measured time and saves each child the work.
    """
    from airflow.datasets import Dataset
    from airflow.models.dagbag import DagBag  # noqa: F401  (imported for the children)
    from airflow.operators.bash import BashOperator
    from airflow.utils.file import iter_airflow_imports

    Dataset("northstar://warm/up")
    BashOperator(task_id="warm_up", bash_command="true")
    for module in sorted({m for path in paths for m in iter_airflow_imports(path)}):
        try:
            importlib.import_module(module)
        except Exception:  # noqa: BLE001,S110 - the child's DagBag reports the real import error for its file
            pass


def _guarded_imports(source: str) -> list[tuple[int, str]]:
    """Modules imported inside a ``try`` whose handler catches ImportError (or broader): the optional-import guard."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Try):
            continue
        caught = {ast.unparse(h.type) if h.type is not None else "" for h in node.handlers}
        if not caught & {"ImportError", "ModuleNotFoundError", "Exception", "BaseException", ""} and not any(
                "ImportError" in c for c in caught):
            continue
        for stmt in ast.walk(ast.Module(body=node.body, type_ignores=[])):
            if isinstance(stmt, ast.Import):
                found += [(stmt.lineno, alias.name) for alias in stmt.names]
            elif isinstance(stmt, ast.ImportFrom) and stmt.module and not stmt.level:
                found.append((stmt.lineno, stmt.module))
    return found


def no_dag_reason(source: str) -> str:
    """Why a file yielded no DAG: the first guarded import that fails here, else 'defines none'."""
    for line, module in _guarded_imports(source):
        try:
            importlib.import_module(module)
        except Exception as exc:  # noqa: BLE001 - any failure is the answer we report
            return (f"its DAG is behind an optional import that fails here (line {line}: import {module}: "
                    f"{type(exc).__name__}: {exc})")
    return "it defines no DAG at module level"


def probe_file(item: FileToProbe, expectations: dict[str, dict[str, TaskExpectation]]) -> dict[str, Any]:
    """Runs in the child: pre-import like the scheduler, load the file in a DagBag, time it, check its DAGs."""
    from airflow.exceptions import AirflowDagCycleException
    from airflow.models import dagbag as dagbag_module
    from airflow.utils.file import iter_airflow_imports

    for module in iter_airflow_imports(item.path):
        try:
            importlib.import_module(module)
        except Exception:  # noqa: BLE001,S110 - the scheduler ignores these too; the DagBag reports the real error
            pass
    cyclic: list[Any] = []
    original = dagbag_module.check_cycle

    def recording_check_cycle(dag: Any) -> None:
        try:
            original(dag)
        except AirflowDagCycleException:
            cyclic.append(dag)
            raise

    dagbag_module.check_cycle = recording_check_cycle  # this child only; it exits after this file
    started = time.perf_counter()
    bag = dagbag_module.DagBag(dag_folder=item.path, include_examples=False, safe_mode=False)
    seconds = time.perf_counter() - started
    source = Path(item.path).read_text(encoding="utf-8", errors="replace")
    errors = [str(m) for m in bag.import_errors.values()]
    if cyclic:  # replaced by the cycle violation, which names the whole loop
        errors = [e for e in errors if "AirflowDagCycleException" not in e]
    violations = [hygiene.cycle_violation(dag, item.display) for dag in cyclic]
    for dag_id, dag in sorted(bag.dags.items()):
        expected = expectations.get(dag_id, {})
        violations += hygiene.check_dag_policies(dag, item.display)
        violations += hygiene.check_spark_references(dag, item.display, source, expected)
        violations += hygiene.check_slas(dag, item.display, expected)
    found = sorted(bag.dags) + sorted(d.dag_id for d in cyclic)
    return {
        "seconds": seconds,
        "dag_ids": sorted(bag.dags),
        "import_error": "\n".join(errors) or None,
        "violations": [v.to_dict() for v in violations],
        "no_dag_reason": None if found or errors else no_dag_reason(source),
    }


def _child(item: FileToProbe, expectations: dict[str, dict[str, TaskExpectation]], conn: Connection) -> None:
    try:
        result = probe_file(item, expectations)
    except BaseException:  # noqa: BLE001 - reported to the parent as this file's import error
        result = {"seconds": 0.0, "dag_ids": [], "import_error": traceback.format_exc(), "violations": [],
                  "no_dag_reason": None}
    conn.send(result)
    conn.close()


def probe_files(items: Sequence[FileToProbe], expectations: dict[str, dict[str, TaskExpectation]], *, workers: int,
                clock: Callable[[], float] = time.monotonic) -> dict[str, dict[str, Any]]:
    """``display -> child result`` for every file, at most ``workers`` children at a time."""
    ctx = multiprocessing.get_context("fork")
    pending = list(items)
    running: dict[Connection, tuple[Any, FileToProbe, float]] = {}
    results: dict[str, dict[str, Any]] = {}
    while pending or running:
        while pending and len(running) < max(1, workers):
            item = pending.pop(0)
            receiver, sender = ctx.Pipe(duplex=False)
            proc = ctx.Process(target=_child, args=(item, expectations, sender), daemon=True)
            proc.start()
            sender.close()
            running[receiver] = (proc, item, clock())
        for ready in wait(list(running), timeout=1.0):
            conn = cast(Connection, ready)
            proc, item, _ = running.pop(conn)
            try:
                results[item.display] = cast(dict[str, Any], conn.recv())
            except EOFError:
                proc.join()
                results[item.display] = _failed(f"the parsing process died (exit code {proc.exitcode})")
            proc.join()
            conn.close()
        for conn, (proc, item, started) in list(running.items()):
            if clock() - started > HARD_TIMEOUT_S:
                proc.kill()
                proc.join()
                running.pop(conn)
                results[item.display] = _failed(f"still parsing after {HARD_TIMEOUT_S:.0f} s: killed",
                                                seconds=HARD_TIMEOUT_S)
    return results


def _failed(message: str, seconds: float = 0.0) -> dict[str, Any]:
    return {"seconds": seconds, "dag_ids": [], "import_error": message, "violations": [], "no_dag_reason": None}


def default_workers() -> int:
    return max(1, min(4, len(os.sched_getaffinity(0))))
