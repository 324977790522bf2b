"""Import- and policy-check DAG folders; the release engine runs this as a subprocess before shipping DAGs.

Usage::

    python -m northstar_airflow.dagbag_check FOLDER [--pass-through FOLDER ...]

Prints exactly one JSON object on stdout (``northstar_contracts.harness``): a
``northstar_contracts.airflow.DagbagReport``::

    {"dag_ids": [...], "import_errors": {path: message}, "policy_violations": [{dag_id, file, rule, message}]}

Paths are ``<folder basename>/<path relative to that folder>`` so results are stable across machines.
Exit status: 0 clean, 1 import errors or policy violations, 2 bad usage (e.g. missing folder: an ``ErrorRecord``).

Why a subprocess entry point: importing DAG files executes arbitrary code and Airflow configures global
logging and settings at import time; isolating that in a child process keeps the caller clean. For the same
reason Airflow is imported only inside ``main`` after the environment is prepared: when the caller has not
set AIRFLOW_HOME we point it at a throwaway directory so nothing is ever written into ~/airflow.
Folders given with ``--pass-through`` (legacy DAGs that cannot be rewritten yet) are import-checked only.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from northstar_contracts.airflow import DagbagReport, PolicyViolation
from northstar_contracts.harness import JsonArgumentParser, Outcome, UsageError, run_entrypoint

DEFAULT_OWNER = "airflow"
"""Airflow's fallback owner; a DAG still carrying it has nobody responsible for it."""


def check_dag_policies(dag: Any, file: str) -> list[PolicyViolation]:
    """Policies for new DAGs: a real owner and at least one retry on every task, and non-empty DAG tags."""
    violations: list[PolicyViolation] = []
    tasks = list(dag.tasks)
    bad_owner = sorted(t.task_id for t in tasks if not (t.owner or "").strip() or t.owner == DEFAULT_OWNER)
    if bad_owner:
        violations.append(
            PolicyViolation(
                dag_id=dag.dag_id,
                file=file,
                rule="owner",
                message=f"owner must be set and not '{DEFAULT_OWNER}' (tasks: {', '.join(bad_owner)})",
            )
        )
    no_retries = sorted(t.task_id for t in tasks if (t.retries or 0) < 1)
    if no_retries:
        violations.append(
            PolicyViolation(
                dag_id=dag.dag_id, file=file, rule="retries",
                message=f"retries must be >= 1 (tasks: {', '.join(no_retries)})",
            )
        )
    if not dag.tags:
        violations.append(
            PolicyViolation(dag_id=dag.dag_id, file=file, rule="tags", message="DAG must have at least one tag")
        )
    return violations


@contextlib.contextmanager
def _airflow_environment() -> Iterator[None]:
    """Give Airflow a private, disposable home unless the caller chose one."""
    created: str | None = None
    if not os.environ.get("AIRFLOW_HOME"):
        created = tempfile.mkdtemp(prefix="northstar-dagbag-")
        os.environ["AIRFLOW_HOME"] = created
        os.environ["AIRFLOW__CORE__UNIT_TEST_MODE"] = "True"
    os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
    try:
        yield
    finally:
        if created:
            shutil.rmtree(created, ignore_errors=True)


def _display_path(path: str, folder: Path) -> str:
    try:
        relative = Path(path).resolve().relative_to(folder)
    except ValueError:
        return path
    return f"{folder.name}/{relative.as_posix()}"


def check_folders(folder: Path, pass_through: Sequence[Path]) -> DagbagReport:
    """Load one DagBag per folder and collect DAG ids, import errors and (non-pass-through) violations."""
    from airflow.models.dagbag import DagBag

    dag_ids: list[str] = []
    import_errors: dict[str, str] = {}
    violations: list[PolicyViolation] = []
    seen: dict[str, str] = {}
    for scanned, policy_checked in [(folder, True), *((p, False) for p in pass_through)]:
        bag = DagBag(dag_folder=str(scanned), include_examples=False)
        for path, message in bag.import_errors.items():
            import_errors[_display_path(path, scanned)] = str(message)
        for dag_id, dag in sorted(bag.dags.items()):
            file = _display_path(dag.fileloc, scanned)
            if dag_id in seen:
                # Within one DagBag Airflow reports this itself; across folders only we can see it.
                import_errors[file] = f"duplicate dag_id {dag_id!r}, also defined in {seen[dag_id]}"
                continue
            seen[dag_id] = file
            dag_ids.append(dag_id)
            if policy_checked:
                violations.extend(check_dag_policies(dag, file))
    return DagbagReport(
        dag_ids=sorted(dag_ids), import_errors=dict(sorted(import_errors.items())), policy_violations=violations
    )


def handle(argv: list[str]) -> Outcome:
    """Parse ``argv``, check the folders; exit 1 on import errors or policy violations."""
    parser = JsonArgumentParser(
        prog="python -m northstar_airflow.dagbag_check", description="Import- and policy-check DAG folders."
    )
    parser.add_argument("folder", type=Path, help="DAG folder whose DAGs must meet the policies")
    parser.add_argument(
        "--pass-through",
        type=Path,
        action="append",
        default=[],
        metavar="FOLDER",
        help="legacy DAG folder: import-checked only, never policy-checked (repeatable)",
    )
    args = parser.parse_args(argv)
    missing = [str(f) for f in [args.folder, *args.pass_through] if not f.is_dir()]
    if missing:
        raise UsageError(f"not a directory: {', '.join(missing)}", folders=missing)
    with _airflow_environment():
        report = check_folders(args.folder.resolve(), [p.resolve() for p in args.pass_through])
    return Outcome.of(report)


def main(argv: Sequence[str] | None = None) -> int:
    """CLI entry point: one JSON object on stdout (``northstar_contracts.harness``); returns the exit status."""
    return run_entrypoint(handle, argv, command="dagbag_check")


if __name__ == "__main__":
    sys.exit(main())
