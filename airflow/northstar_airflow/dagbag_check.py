"""Import-, policy- and hygiene-check DAG folders; the release engine runs this as a subprocess before shipping DAGs.

Usage::

    python -m northstar_airflow.dagbag_check FOLDER [--pass-through FOLDER ...] [--catalog DIR]
        [--exemptions FILE] [--parse-budget SECONDS] [--workers N] [--today YYYY-MM-DD]

Prints exactly one JSON object on stdout (``northstar_contracts.harness``): a
``northstar_contracts.airflow.DagbagReport`` (DAG ids, import errors, violations, per-file parse seconds, exempted
legacy findings). Paths are ``<folder basename>/<path relative to that folder>`` so results are stable across
machines. Exit status: 0 clean, 1 import errors or violations, 2 bad usage (an ``ErrorRecord``).

What is checked, per shipped ``*.py`` file (Airflow's own listing, honouring ``.airflowignore``):
* it imports, and yields at least one DAG (a file that yields none is reported with the likely cause);
* it parses within ``--parse-budget`` seconds (default 1) in its own process forked from a warmed parent, like the
  scheduler's parser (``parse_probe``), so import caching across files cannot hide a slow file;
* no dag_id is defined by two files (every file is named: Airflow 2.11 keeps the first file it parses and reports
  the others as import errors, so which copy runs depends on traversal order);
* no task cycle (Airflow rejects the DAG with "Faulty task: x"; the whole loop is reported);
* new-DAG policies (owner, retries, tags), Spark jobs only through the env pointer, and the SLA the catalog
  (``--catalog``: the bundle's copy of ``pipelines/catalog/pipelines``) declares for every pipeline a DAG runs.
Folders given with ``--pass-through`` (legacy DAGs) are always checked for import errors, files without a DAG,
cycles and duplicate ids; their other findings block unless ``--exemptions`` records an unexpired exemption.

Why a subprocess entry point: importing DAG files executes arbitrary code and Airflow configures global logging and
settings at import time; isolating that in a child process keeps the caller clean. Airflow is imported only inside
``main`` after the environment is prepared: without AIRFLOW_HOME we point it at a throwaway directory.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime
from pathlib import Path

from northstar_airflow import catalog_expectations, exemptions, parse_probe
from northstar_airflow.catalog_expectations import describe
from northstar_airflow.hygiene import DEFAULT_OWNER, check_dag_policies
from northstar_contracts.airflow import (
    RULE_DUPLICATE_DAG_ID,
    RULE_NO_DAG,
    RULE_PARSE_TIME,
    RULE_SLA,
    DagbagReport,
    PolicyViolation,
)
from northstar_contracts.harness import JsonArgumentParser, Outcome, UsageError, run_entrypoint

__all__ = ["DEFAULT_OWNER", "check_dag_policies", "check_folders", "main"]

DEFAULT_PARSE_BUDGET_S = 1.0


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


def check_folders(folder: Path, pass_through: Sequence[Path], *, catalog: Path | None = None,
                  exemptions_file: Path | None = None, parse_budget: float = DEFAULT_PARSE_BUDGET_S,
                  workers: int | None = None, today: date | None = None) -> DagbagReport:
    """Probe every file of every folder in its own process, then the checks that span files."""
    from airflow.utils.file import list_py_file_paths

    expectations = catalog_expectations.load(catalog)
    recorded = exemptions.load(exemptions_file)
    items: list[parse_probe.FileToProbe] = []
    legacy: dict[str, str] = {}  # display -> path relative to its pass-through folder
    for scanned, is_legacy in [(folder, False), *((p, True) for p in pass_through)]:
        for path in sorted(list_py_file_paths(str(scanned), safe_mode=False, include_examples=False)):
            display = _display_path(path, scanned)
            items.append(parse_probe.FileToProbe(path=path, display=display))
            if is_legacy:
                legacy[display] = Path(path).resolve().relative_to(scanned).as_posix()
    parse_probe.warm_up([item.path for item in items])
    probes = parse_probe.probe_files(items, expectations, workers=workers or parse_probe.default_workers())

    import_errors: dict[str, str] = {}
    findings: dict[str, list[PolicyViolation]] = {}
    files_of: dict[str, list[str]] = {}
    parse_seconds: dict[str, float] = {}
    for item in items:
        probe = probes[item.display]
        mine = findings.setdefault(item.display, [])
        parse_seconds[item.display] = round(float(probe["seconds"]), 3)
        if probe["import_error"]:
            import_errors[item.display] = probe["import_error"]
        for dag_id in probe["dag_ids"]:
            files_of.setdefault(dag_id, []).append(item.display)
        mine += [PolicyViolation(**v) for v in probe["violations"]]
        first = probe["dag_ids"][0] if probe["dag_ids"] else None
        if probe["seconds"] > parse_budget:
            mine.append(PolicyViolation(
                dag_id=first, file=item.display, rule=RULE_PARSE_TIME,
                message=f"parsed in {probe['seconds']:.2f} s in a fresh process, over the {parse_budget:g} s budget: "
                        "move slow work (network, heavy imports, sleeps) out of module level into tasks"))
        if probe["no_dag_reason"]:
            mine.append(PolicyViolation(dag_id=None, file=item.display, rule=RULE_NO_DAG,
                                        message=f"shipped DAG file yields no DAG: {probe['no_dag_reason']}"))
    for dag_id, files in files_of.items():
        if len(files) > 1:
            for file in files:
                findings[file].append(PolicyViolation(
                    dag_id=dag_id, file=file, rule=RULE_DUPLICATE_DAG_ID,
                    message=f"dag_id {dag_id!r} is defined in {len(files)} files: {', '.join(files)} (Airflow keeps "
                            "whichever it parses first and drops the others)"))
    violations = [v for display, vs in findings.items() if display not in legacy for v in vs]
    violations += _missing_catalog_dags(expectations, set(files_of), bool(import_errors))
    applied = exemptions.apply({d: findings.get(d, []) for d in legacy}, legacy, recorded,
                               today=today or datetime.now(UTC).date(),
                               exemptions_name=exemptions_file.name if exemptions_file else "dag_exemptions.yaml")
    violations += applied.blocking
    return DagbagReport(
        dag_ids=sorted(files_of), import_errors=dict(sorted(import_errors.items())),
        policy_violations=sorted(violations, key=lambda v: (v.file, v.rule, v.dag_id or "", v.message)),
        parse_seconds=parse_seconds, parse_budget_seconds=parse_budget, exempted=applied.exempted)


def _missing_catalog_dags(expectations: dict[str, dict[str, catalog_expectations.TaskExpectation]],
                          found: set[str], any_import_error: bool) -> list[PolicyViolation]:
    """A catalog pipeline whose DAG no shipped file defines has no SLA anywhere (import errors may explain it)."""
    out = []
    for dag_id, tasks in sorted(expectations.items()):
        if dag_id in found or any_import_error:
            continue
        for want in sorted(tasks.values(), key=lambda t: t.pipeline):
            sla = f", sla {describe(want.sla)}" if want.sla else ""
            out.append(PolicyViolation(dag_id=dag_id, file=want.source, rule=RULE_SLA,
                                       message=f"catalog pipeline {want.pipeline}{sla} runs in DAG {dag_id}, "
                                               "which no shipped DAG file defines"))
    return out


def _positive(text: str) -> float:
    value = float(text)
    if value <= 0:
        raise ValueError(text)
    return value


def handle(argv: list[str]) -> Outcome:
    """Parse ``argv``, check the folders; exit 1 on import errors or violations."""
    parser = JsonArgumentParser(
        prog="python -m northstar_airflow.dagbag_check", description="Import-, policy- and hygiene-check DAG folders."
    )
    parser.add_argument("folder", type=Path, help="DAG folder whose DAGs must meet the policies")
    parser.add_argument("--pass-through", type=Path, action="append", default=[], metavar="FOLDER",
                        help="legacy DAG folder: findings beyond import/duplicate-id need a recorded exemption")
    parser.add_argument("--catalog", type=Path, metavar="DIR", help="catalog pipelines/*.yaml: SLAs and Spark jobs")
    parser.add_argument("--exemptions", type=Path, metavar="FILE", help="legacy exemptions YAML (owner, expiry)")
    parser.add_argument("--parse-budget", type=_positive, default=DEFAULT_PARSE_BUDGET_S, metavar="SECONDS",
                        help="per-file parse budget in a fresh process (default 1)")
    parser.add_argument("--workers", type=int, default=None, help="parallel parsing processes (default: cores, <=4)")
    parser.add_argument("--today", type=date.fromisoformat, default=None, help="date exemptions expire against")
    args = parser.parse_args(argv)
    missing = [str(f) for f in [args.folder, *args.pass_through, *filter(None, [args.catalog])] if not f.is_dir()]
    if args.exemptions is not None and not args.exemptions.is_file():
        missing.append(str(args.exemptions))
    if missing:
        raise UsageError(f"not a directory or file: {', '.join(missing)}", folders=missing)
    with _airflow_environment():
        report = check_folders(args.folder.resolve(), [p.resolve() for p in args.pass_through],
                               catalog=args.catalog.resolve() if args.catalog else None,
                               exemptions_file=args.exemptions, parse_budget=args.parse_budget,
                               workers=args.workers, today=args.today)
    return Outcome.of(report)


def main(argv: Sequence[str] | None = None) -> int:
    """CLI entry point: one JSON object on stdout (``northstar_contracts.harness``); returns the exit status."""
    return run_entrypoint(handle, argv, command="dagbag_check")


if __name__ == "__main__":
    sys.exit(main())
