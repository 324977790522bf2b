"""Warehouse component entry point: the release engine drives SQLMesh (over the dbt project) only through this CLI.

    python -m northstar_dbt.warehouse <subcommand> --project DIR --warehouse FILE --state FILE [options]

Contract (ADR 0003): argv in, exactly ONE JSON object on stdout, exit 0 ok / 1 problems / 2 usage. Everything
SQLMesh and dbt print goes to stderr: file descriptor 1 is pointed at stderr for the whole run and the JSON is
written to a saved copy of the original stdout at the end.

Subcommands
- ``plan --env ENV [--apply] [--ack MODEL ...] [--virtual-only]``: plan the project into SQLMesh environment ENV
  (dev, staging and prod live in ONE warehouse) with automatic categorization. Reports each changed node's category,
  the models to backfill and, when applied, the rows recomputed (0 for a virtual update). A BREAKING (direct or
  indirect) change to a ``finance``-tagged model, or any forward-only change, needs ``--ack MODEL``; with ``--apply``
  and a missing acknowledgement nothing is applied and the exit code is 1. ``--virtual-only`` (rollback, pins) refuses
  with exit 1 when the plan would need snapshots that no longer exist (the janitor removed them); it needs no new
  acknowledgement, since it only re-points views at snapshots built (and acknowledged) before. ``--verify`` adds
  tables + audits of ENV after applying, ``--pin``/``--unpin`` then manage pins -- all in one project load.
- ``audit [--scratch]``: runs every SQLMesh audit (dbt schema tests AND singular tests) explicitly, like
  ``sqlmesh audit`` -- plans do not re-run an edited singular test. ``--scratch`` first builds the project into a
  throw-away warehouse + state (pre-deploy check: nothing shared changes); otherwise audits the project's snapshots
  as built in the given warehouse.
- ``unit-test``: dbt ``unit_tests:`` (SQLMesh ignores them) with dbt-core on a scratch DuckDB.
- ``tables --env ENV``: row count + md5 of the sorted rows of every model as ENV sees it ("prod unchanged" evidence).
- ``pin --name NAME`` / ``unpin --name NAME``: a never-expiring environment ``keep_NAME`` over the project's snapshots
  (a virtual update) keeps them alive against the janitor, so rollbacks to known-good releases stay recompute-free.
- ``verify --env ENV``: tables + audits of ENV (and pins), for a verify that did not follow a deploy.
- ``envs``: the SQLMesh environments in state. ``janitor [--ignore-ttl]``: run SQLMesh's janitor.

A file lock (``<warehouse>.lock``) serialises processes on the warehouse: DuckDB admits one writer process, and the
dev and staging deploys hold different release-engine locks but share this file.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import json
import os
import shutil
import sys
import tempfile
import time
import traceback
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE = 0, 1, 2
ACK_TAGS = frozenset({"finance"})
PIN_PREFIX = "keep_"
AUDIT_START = "2024-01-01"
LOCK_TIMEOUT_S = float(os.environ.get("NORTHSTAR_WAREHOUSE_LOCK_TIMEOUT", "600"))

CATEGORY_NAMES = {
    "BREAKING": "breaking",
    "NON_BREAKING": "non-breaking",
    "FORWARD_ONLY": "forward-only",
    "INDIRECT_BREAKING": "indirect-breaking",
    "INDIRECT_NON_BREAKING": "indirect-non-breaking",
    "METADATA": "metadata",
}


class UsageProblem(Exception):
    """Bad arguments or inputs: exit 2."""


class Problem(Exception):
    """The operation was refused or failed for a reason worth reporting: exit 1 with ``payload``."""

    def __init__(self, message: str, payload: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.payload = payload or {}


# ---- process set-up ---------------------------------------------------------------------------------------------
def _hermetic_env() -> None:
    os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
    os.environ.setdefault("DO_NOT_TRACK", "1")
    os.environ.setdefault("SQLMESH__DISABLE_ANONYMIZED_ANALYTICS", "true")


def _point_engine(args: argparse.Namespace) -> None:
    """config.py and profiles.yml read the warehouse/state locations from these variables."""
    os.environ["NORTHSTAR_DUCKDB_PATH"] = str(args.warehouse)
    os.environ["NORTHSTAR_SQLMESH_STATE_PATH"] = str(args.state)
    os.environ["NORTHSTAR_DBT_TARGET"] = args.target
    if args.state_url:
        os.environ["NORTHSTAR_SQLMESH_STATE_URL"] = args.state_url
    else:
        os.environ.pop("NORTHSTAR_SQLMESH_STATE_URL", None)


@contextlib.contextmanager
def warehouse_lock(warehouse: Path, timeout_s: float = LOCK_TIMEOUT_S) -> Iterator[float]:
    """Exclusive flock on ``<warehouse>.lock``; yields the seconds spent waiting."""
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    lock_path = warehouse.with_name(warehouse.name + ".lock")
    started = time.monotonic()
    with open(lock_path, "a+") as fh:
        while True:
            try:
                fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() - started > timeout_s:
                    raise Problem(
                        f"warehouse {warehouse} is locked by another process for more than {timeout_s:.0f}s"
                    ) from None
                time.sleep(0.2)
        waited = time.monotonic() - started
        try:
            fh.seek(0)
            fh.truncate()
            fh.write(f"pid={os.getpid()} argv={' '.join(sys.argv[1:])[:300]}\n")
            fh.flush()
            yield waited
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def _context(project: Path) -> Any:
    from sqlmesh import Context
    from sqlmesh.core.console import NoopConsole, set_console

    if not (project / "dbt_project.yml").is_file() or not (project / "config.py").is_file():
        raise UsageProblem(f"{project} is not a dbt/SQLMesh project (needs dbt_project.yml and config.py)")
    set_console(NoopConsole())  # the janitor's terminal console would prompt; results come back as data
    context = Context(paths=str(project))
    # Release environments (dev/staging/prod) and pins are long-lived: they must never expire through
    # environment_ttl. Snapshots no environment references still expire after snapshot_ttl.
    context.environment_ttl = None
    return context


# ---- helpers --------------------------------------------------------------------------------------------------
def short_name(name: str) -> str:
    """``"warehouse"."analytics"."fct_orders"`` -> ``fct_orders``; standalone audit names pass through."""
    last = name.rsplit(".", 1)[-1] if not name.endswith('"') else name[name.rstrip('"').rfind('"') + 1:-1]
    return last.strip('"') or name


def _category(snapshot: Any) -> str:
    if snapshot.change_category is None:
        return "uncategorized"
    return CATEGORY_NAMES.get(snapshot.change_category.name, snapshot.change_category.name.lower())


def _tags(snapshot: Any) -> list[str]:
    node = snapshot.node
    return sorted(getattr(node, "tags", None) or [])


def _is_view(snapshot: Any) -> bool:
    kind = getattr(snapshot, "model_kind_name", None)
    return kind is not None and kind.name in ("VIEW", "EMBEDDED", "EXTERNAL")


def describe_plan(plan: Any) -> dict[str, Any]:
    """Categories per changed node, added/removed nodes, backfill list and acknowledgement requirements."""
    diff = plan.context_diff
    changes: dict[str, dict[str, Any]] = {}
    added_names = {s.name for s in diff.added}

    def record(snapshot: Any, direct: bool) -> None:
        name = short_name(snapshot.name)
        category = _category(snapshot)
        forward_only = bool(snapshot.is_model and snapshot.is_forward_only and category != "metadata")
        is_new = snapshot.name in added_names  # new to this environment's lineage: nothing to break
        changes[name] = {
            "name": snapshot.name,
            "node": "model" if snapshot.is_model else "audit",
            "category": "added" if is_new else ("forward-only" if forward_only else category),
            "added": is_new,
            "sqlmesh_category": category,
            "direct": direct,
            "forward_only": forward_only,
            "tags": _tags(snapshot),
            "fingerprint": snapshot.fingerprint.to_identifier(),
        }

    for sid in sorted(plan.directly_modified):
        record(plan.snapshots[sid], direct=True)
    for _parent, children in sorted(plan.indirectly_modified.items()):
        for sid in sorted(children):
            if short_name(sid.name) not in changes:
                record(plan.snapshots[sid], direct=False)
    for sid in sorted(plan.metadata_updated):
        if short_name(sid.name) not in changes:
            record(plan.snapshots[sid], direct=True)

    added = sorted(short_name(s.name) for s in diff.added)
    removed = sorted(short_name(s.name) for s in diff.removed_snapshots)
    backfill = []
    for si in plan.missing_intervals:
        snapshot = plan.snapshots[si.snapshot_id]
        backfill.append({"model": short_name(snapshot.name), "intervals": len(si.intervals),
                         "kind": snapshot.model_kind_name.name if snapshot.model_kind_name else None})
    needs_ack = sorted(
        name for name, c in changes.items()
        if c["node"] == "model" and not c["added"] and (
            (c["sqlmesh_category"] in ("breaking", "indirect-breaking") and ACK_TAGS & set(c["tags"]))
            or c["forward_only"]
        )
    )
    if plan.forward_only:
        needs_ack = sorted(set(needs_ack) | {n for n, c in changes.items() if c["node"] == "model" and not c["added"]})
    return {
        "environment": plan.environment.name,
        "is_new_environment": diff.is_new_environment,
        "has_changes": plan.has_changes,
        "changes": changes,
        "categories": {n: c["category"] for n, c in sorted(changes.items())},
        "added": added,
        "removed": removed,
        "new_snapshots": sorted(short_name(s.name) for s in plan.new_snapshots),
        "backfill": sorted(backfill, key=lambda b: b["model"]),
        "requires_backfill": plan.requires_backfill,
        "virtual_update": not plan.requires_backfill,
        "plan_forward_only": bool(plan.forward_only),
        "uncategorized": sorted(short_name(s.name) for s in plan.uncategorized),
        "needs_ack": needs_ack,
    }


def _acked(needed: list[str], acks: list[str]) -> tuple[list[str], list[str]]:
    given = {a.strip().lower() for a in acks if a.strip()}
    ok = [n for n in needed if n.lower() in given or f"ack:{n.lower()}" in given]
    return ok, [n for n in needed if n not in ok]


def _count_rows(context: Any, table: str) -> int:
    # ``table`` is a physical table name produced by SQLMesh from the project's model names, not user input.
    row = context.engine_adapter.fetchone(f"select count(*) from {table}")  # noqa: S608
    return int(row[0]) if row else 0


# ---- subcommands ------------------------------------------------------------------------------------------------
def cmd_plan(args: argparse.Namespace) -> tuple[int, dict[str, Any]]:
    timings: dict[str, float] = {}
    with warehouse_lock(args.warehouse) as waited:
        timings["lock_wait_s"] = round(waited, 3)
        t0 = time.monotonic()
        context = _context(args.project)
        timings["load_s"] = round(time.monotonic() - t0, 3)
        return _plan_into(context, args.env, args, timings)


def _plan_into(context: Any, env: str, args: argparse.Namespace, timings: dict[str, float],
               apply: bool | None = None, virtual_only: bool | None = None) -> tuple[int, dict[str, Any]]:
    apply = args.apply if apply is None else apply
    virtual_only = getattr(args, "virtual_only", False) if virtual_only is None else virtual_only
    t0 = time.monotonic()
    plan = context.plan_builder(env, include_unmodified=True).build()
    timings["plan_s"] = round(time.monotonic() - t0, 3)
    report = describe_plan(plan)
    acked, missing = _acked(report["needs_ack"], list(getattr(args, "ack", None) or []))
    report.update({"acknowledged": acked, "missing_ack": missing, "applied": False, "rows_recomputed": 0,
                   "timings": timings, "project": str(args.project)})

    if report["uncategorized"]:
        report["error"] = f"SQLMesh could not categorize: {', '.join(report['uncategorized'])}"
        return EXIT_PROBLEMS, report
    gone = [s for s in plan.new_snapshots if s.is_model]
    if virtual_only and gone:
        names = ", ".join(sorted(short_name(s.name) for s in gone))
        report["error"] = (f"refused: the snapshots of {names} are not in the warehouse state any more (removed by "
                           f"the janitor after their TTL, or never built); switching {env} to this project would "
                           f"recompute them, so this is not a virtual rollback. Deploy it as a new release instead.")
        report["snapshots_gone"] = sorted(short_name(s.name) for s in gone)
        return EXIT_PROBLEMS, report
    if not apply:
        return EXIT_OK, report
    # Virtual-only plans (rollback to a known-good release, pins) reuse snapshots exactly as they were built and
    # acknowledged when first deployed: they recompute nothing, so they need no new acknowledgement.
    if missing and not virtual_only:
        report["error"] = (f"acknowledgement required for {', '.join(missing)} (breaking change to a finance model or "
                           f"forward-only change); nothing applied")
        return EXIT_PROBLEMS, report
    if not plan.has_changes:
        report["message"] = f"{env} already matches the project: nothing to apply"
        return _post_apply(context, env, args, report)

    t0 = time.monotonic()
    context.apply(plan)
    timings["apply_s"] = round(time.monotonic() - t0, 3)
    rows = 0
    recomputed: dict[str, int] = {}
    for si in plan.missing_intervals:
        snapshot = plan.snapshots[si.snapshot_id]
        if not snapshot.is_model or _is_view(snapshot):
            continue
        n = _count_rows(context, snapshot.table_name())
        recomputed[short_name(snapshot.name)] = n
        rows += n
    report.update({"applied": True, "rows_recomputed": rows, "rows_recomputed_by_model": recomputed,
                   "views_recreated": sorted(short_name(plan.snapshots[si.snapshot_id].name)
                                             for si in plan.missing_intervals
                                             if _is_view(plan.snapshots[si.snapshot_id]))})
    return _post_apply(context, env, args, report)


def _post_apply(context: Any, env: str, args: argparse.Namespace, report: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """``--verify``: tables + audits of ENV in the same process (one project load); then, only when verified,
    ``--pin`` keeps these snapshots alive and ``--unpin`` releases older pins."""
    if not getattr(args, "verify", False):
        return EXIT_OK, report
    report["verify"] = verify_env(context, env)
    if report["verify"]["ok"]:
        report["pins"] = pin_and_unpin(context, args)
    return EXIT_OK, report


def verify_env(context: Any, env: str) -> dict[str, Any]:
    t0 = time.monotonic()
    tables = tables_of(context, env)
    audits = _audit(context)
    failed = [f"{a['audit']}" + (f" on {a['model']}" if a["model"] else "") for a in audits if a["status"] == "fail"]
    return {"ok": not failed, "tables": tables["tables"], "plan_id": tables["plan_id"],
            "audits_passed": sum(a["status"] == "pass" for a in audits), "audits_failed": failed,
            "audits": audits, "seconds": round(time.monotonic() - t0, 3)}


def pin_and_unpin(context: Any, args: argparse.Namespace) -> dict[str, Any]:
    out: dict[str, Any] = {"pinned": None, "unpinned": []}
    if getattr(args, "pin", None):
        name = _pin_env(args.pin)
        context.pinned_environments = set(context.pinned_environments) | {name}
        code, report = _plan_into(context, name, argparse.Namespace(ack=[], project=args.project), {},
                                  apply=True, virtual_only=True)
        out["pinned"] = name if code == EXIT_OK else None
        if code != EXIT_OK:
            out["pin_error"] = report.get("error")
    for old in getattr(args, "unpin", None) or []:
        name = _pin_env(old)
        context.invalidate_environment(name)
        out["unpinned"].append(name)
    return out


def _audit(context: Any) -> list[dict[str, Any]]:
    """Every audit of every node (schema tests and singular tests), like ``sqlmesh audit``, with per-audit results."""
    end = (date.today() + timedelta(days=1)).isoformat()
    results = []
    for snapshot in sorted(context.snapshots.values(), key=lambda s: s.name):
        for res in context.snapshot_evaluator.audit(snapshot=snapshot, start=AUDIT_START, end=end,
                                                    snapshots=context.snapshots):
            name = res.audit.name
            model = short_name(res.model.name) if res.model is not None else None
            entry: dict[str, Any] = {
                "audit": name,
                "model": model,
                "node": short_name(snapshot.name),
                "status": "skipped" if res.skipped else ("fail" if res.count else "pass"),
                "failing_rows": int(res.count or 0),
                "blocking": bool(getattr(res, "blocking", True)),
            }
            if res.count and res.query is not None:
                entry["query"] = res.query.sql(dialect="duckdb")[:2000]
            results.append(entry)
    return results


def cmd_audit(args: argparse.Namespace) -> tuple[int, dict[str, Any]]:
    timings: dict[str, float] = {}
    scratch_dir = None
    try:
        if args.scratch:
            scratch_dir = Path(tempfile.mkdtemp(prefix="wh-audit-"))
            args.warehouse, args.state, args.state_url = scratch_dir / "warehouse.duckdb", scratch_dir / "state.duckdb", None
            _point_engine(args)
        with warehouse_lock(args.warehouse) as waited:
            timings["lock_wait_s"] = round(waited, 3)
            t0 = time.monotonic()
            context = _context(args.project)
            timings["load_s"] = round(time.monotonic() - t0, 3)
            if args.scratch:
                t0 = time.monotonic()
                # Failing audits must not abort the build: they are what we report.
                plan = context.plan_builder("prod", include_unmodified=True).build()
                try:
                    context.apply(plan)
                except Exception as exc:  # noqa: BLE001 - blocking audits raise here; reported below
                    timings["build_s"] = round(time.monotonic() - t0, 3)
                    build_error: str | None = f"{type(exc).__name__}: {str(exc)[:1500]}"
                else:
                    build_error = None
                    timings["build_s"] = round(time.monotonic() - t0, 3)
            else:
                build_error = None
            t0 = time.monotonic()
            results = _audit(context)
            timings["audit_s"] = round(time.monotonic() - t0, 3)
    finally:
        if scratch_dir is not None:
            shutil.rmtree(scratch_dir, ignore_errors=True)
    failed = [r for r in results if r["status"] == "fail"]
    payload = {
        "ok": not failed and build_error is None,
        "mode": "scratch" if args.scratch else "warehouse",
        "audits": results,
        "passed": sum(r["status"] == "pass" for r in results),
        "failed": [f"{r['audit']}" + (f" on {r['model']}" if r["model"] else "") for r in failed],
        "skipped": sum(r["status"] == "skipped" for r in results),
        "timings": timings,
    }
    if build_error:
        payload["build_error"] = build_error
    return (EXIT_OK if payload["ok"] else EXIT_PROBLEMS), payload


def cmd_unit_test(args: argparse.Namespace) -> tuple[int, dict[str, Any]]:
    """dbt ``unit_tests:`` with dbt-core on a scratch DuckDB (upstream seeds/models built, data tests excluded)."""
    from dbt.cli.main import dbtRunner

    scratch = Path(tempfile.mkdtemp(prefix="wh-unit-"))
    t0 = time.monotonic()
    old_cwd = os.getcwd()
    try:
        os.environ["NORTHSTAR_DUCKDB_PATH"] = str(scratch / "unit.duckdb")
        os.chdir(args.project)
        result = dbtRunner().invoke([
            "build", "--select", "+test_type:unit", "--exclude", "test_type:data",
            "--project-dir", str(args.project), "--profiles-dir", str(args.project), "--target", "duckdb",
            "--target-path", str(scratch / "target"), "--log-path", str(scratch / "logs"), "--quiet",
        ])
    finally:
        os.chdir(old_cwd)
        shutil.rmtree(scratch, ignore_errors=True)
    tests: list[dict[str, Any]] = []
    other_failures: list[str] = []
    node_results: Any = result.result if result.exception is None else None  # RunExecutionResult for `build`
    for r in node_results or []:
        uid = r.node.unique_id
        status = str(r.status)
        if uid.startswith("unit_test."):
            tests.append({"test": uid, "model": uid.split(".")[2] if uid.count(".") >= 3 else None,
                          "status": status, "message": (r.message or "")[:2000]})
        elif status not in ("success", "pass", "skipped"):
            other_failures.append(f"{uid}: {status}: {(r.message or '')[:300]}")
    failed = [t["test"] for t in tests if t["status"] != "pass"]
    payload: dict[str, Any] = {
        "ok": result.exception is None and not failed and not other_failures,
        "unit_tests": tests,
        "passed": len(tests) - len(failed),
        "failed": failed,
        "upstream_failures": other_failures,
        "timings": {"dbt_s": round(time.monotonic() - t0, 3)},
    }
    if result.exception is not None:
        payload["error"] = f"{type(result.exception).__name__}: {str(result.exception)[:1500]}"
    return (EXIT_OK if payload["ok"] else EXIT_PROBLEMS), payload


def cmd_verify(args: argparse.Namespace) -> tuple[int, dict[str, Any]]:
    with warehouse_lock(args.warehouse):
        context = _context(args.project)
        result = verify_env(context, args.env)
        if result["ok"]:
            result["pins"] = pin_and_unpin(context, args)
        return (EXIT_OK if result["ok"] else EXIT_PROBLEMS), result


def cmd_tables(args: argparse.Namespace) -> tuple[int, dict[str, Any]]:
    with warehouse_lock(args.warehouse):
        context = _context(args.project)
        return EXIT_OK, {"ok": True, **tables_of(context, args.env)}


def tables_of(context: Any, env: str) -> dict[str, Any]:
    from sqlmesh.core.environment import Environment

    environment = context.state_reader.get_environment(Environment.sanitize_name(env))
    if environment is None:
        raise Problem(f"SQLMesh environment {env!r} does not exist", {"environment": env, "tables": {}})
    tables: dict[str, Any] = {}
    for info in sorted(environment.snapshots, key=lambda s: s.name):
        if not info.is_model:
            continue
        relation = info.qualified_view_name.for_environment(environment.naming_info, dialect="duckdb")
        # Relation names come from SQLMesh state (the project's model names), not user input.
        sql = f"select count(*), md5(coalesce(string_agg(cast(t as varchar), chr(10) order by cast(t as varchar)), '')) from {relation} as t"  # noqa: S608, E501
        row = context.engine_adapter.fetchone(sql)
        tables[short_name(info.name)] = {"relation": relation, "rows": int(row[0]), "checksum": row[1],
                                         "fingerprint": info.fingerprint.to_identifier()}
    return {"environment": environment.name, "plan_id": environment.plan_id, "tables": tables}


def cmd_pin(args: argparse.Namespace) -> tuple[int, dict[str, Any]]:
    name = _pin_env(args.name)
    with warehouse_lock(args.warehouse):
        context = _context(args.project)
        context.pinned_environments = set(context.pinned_environments) | {name}
        code, report = _plan_into(context, name, args, {}, apply=True, virtual_only=True)
        report["pin"] = name
        return code, report


def cmd_unpin(args: argparse.Namespace) -> tuple[int, dict[str, Any]]:
    name = _pin_env(args.name)
    with warehouse_lock(args.warehouse):
        context = _context(args.project)
        context.invalidate_environment(name)
        return EXIT_OK, {"ok": True, "unpinned": name,
                         "note": "the janitor removes the environment, then its unreferenced snapshots after snapshot_ttl"}


def _pin_env(name: str) -> str:
    from sqlmesh.core.environment import Environment

    clean = "".join(ch if ch.isalnum() else "_" for ch in name.lower()).strip("_")
    if not clean:
        raise UsageProblem(f"invalid pin name {name!r}")
    return Environment.sanitize_name(clean if clean.startswith(PIN_PREFIX) else PIN_PREFIX + clean)


def cmd_envs(args: argparse.Namespace) -> tuple[int, dict[str, Any]]:
    with warehouse_lock(args.warehouse):
        context = _context(args.project)
        envs = []
        for e in context.state_reader.get_environments():
            envs.append({"name": e.name, "expiration_ts": e.expiration_ts, "expired": e.expired,
                         "snapshots": len(e.snapshots), "plan_id": e.plan_id,
                         "pinned": e.name.startswith(PIN_PREFIX)})
        return EXIT_OK, {"ok": True, "environments": sorted(envs, key=lambda x: x["name"])}


def cmd_janitor(args: argparse.Namespace) -> tuple[int, dict[str, Any]]:
    with warehouse_lock(args.warehouse):
        context = _context(args.project)
        ok = context.run_janitor(ignore_ttl=args.ignore_ttl)
        return (EXIT_OK if ok else EXIT_PROBLEMS), {"ok": ok, "ignore_ttl": args.ignore_ttl}


# ---- CLI --------------------------------------------------------------------------------------------------------
class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:  # type: ignore[override]
        raise UsageProblem(message)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="northstar_dbt.warehouse", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    def common(p: argparse.ArgumentParser, warehouse: bool = True) -> None:
        p.add_argument("--project", type=Path, required=True, help="dbt project dir with SQLMesh config.py")
        p.add_argument("--warehouse", type=Path, required=warehouse, help="DuckDB warehouse file")
        p.add_argument("--state", type=Path, required=False, help="SQLMesh state DuckDB file")
        p.add_argument("--state-url", default=os.environ.get("NORTHSTAR_SQLMESH_STATE_URL") or None,
                       help="postgresql://... SQLMesh state (instead of --state)")
        p.add_argument("--target", default="duckdb", help="dbt profile target (gateway)")

    p = sub.add_parser("plan", help="plan (and with --apply, apply) the project into a SQLMesh environment")
    common(p)
    p.add_argument("--env", required=True)
    p.add_argument("--apply", action="store_true")
    p.add_argument("--ack", action="append", default=[], metavar="MODEL",
                   help="acknowledge a breaking finance / forward-only change of MODEL (repeatable)")
    p.add_argument("--virtual-only", action="store_true",
                   help="refuse (exit 1) unless every snapshot already exists: rollback semantics")
    p.add_argument("--verify", action="store_true", help="after applying: tables + audits of ENV (same process)")
    p.add_argument("--pin", metavar="NAME", help="with --verify: when verified, pin the snapshots as keep_NAME")
    p.add_argument("--unpin", action="append", default=[], metavar="NAME", help="with --verify: release old pins")
    p.set_defaults(handler=cmd_plan)

    p = sub.add_parser("verify", help="tables + audits of ENV as built from the project; optional pins")
    common(p)
    p.add_argument("--env", required=True)
    p.add_argument("--pin", metavar="NAME")
    p.add_argument("--unpin", action="append", default=[], metavar="NAME")
    p.set_defaults(handler=cmd_verify)

    p = sub.add_parser("audit", help="run every SQLMesh audit (schema + singular tests) explicitly")
    common(p, warehouse=False)
    p.add_argument("--scratch", action="store_true", help="build into a throw-away warehouse first")
    p.set_defaults(handler=cmd_audit)

    p = sub.add_parser("unit-test", help="dbt unit tests with dbt-core on a scratch DuckDB")
    p.add_argument("--project", type=Path, required=True)
    p.set_defaults(handler=cmd_unit_test, warehouse=None)

    p = sub.add_parser("tables", help="row count + checksum per model as ENV sees it")
    common(p)
    p.add_argument("--env", required=True)
    p.set_defaults(handler=cmd_tables)

    for verb, handler, helptext in (("pin", cmd_pin, "keep the project's snapshots alive as env keep_NAME"),
                                    ("unpin", cmd_unpin, "release a pin (janitor may then remove snapshots)")):
        p = sub.add_parser(verb, help=helptext)
        common(p)
        p.add_argument("--name", required=True)
        p.set_defaults(handler=handler, apply=True, ack=[])

    p = sub.add_parser("envs", help="list SQLMesh environments")
    common(p)
    p.set_defaults(handler=cmd_envs)

    p = sub.add_parser("janitor", help="run the SQLMesh janitor")
    common(p)
    p.add_argument("--ignore-ttl", action="store_true")
    p.set_defaults(handler=cmd_janitor)
    return parser


def run(argv: list[str]) -> tuple[int, dict[str, Any]]:
    try:
        args = build_parser().parse_args(argv)
        args.project = args.project.resolve()
        if not args.project.is_dir():
            raise UsageProblem(f"--project {args.project} is not a directory")
        if getattr(args, "warehouse", None) is not None:
            args.warehouse = args.warehouse.resolve()
            if args.state is None and not args.state_url:
                args.state = args.warehouse.with_name("sqlmesh_state.duckdb")
            if args.state is not None:
                args.state = args.state.resolve()
            _point_engine(args)
        code, payload = args.handler(args)
        payload.setdefault("ok", code == EXIT_OK)
        return code, {"command": args.command, **payload}
    except UsageProblem as exc:
        return EXIT_USAGE, {"ok": False, "error": str(exc), "usage": True}
    except Problem as exc:
        return EXIT_PROBLEMS, {"ok": False, "error": str(exc), **exc.payload}
    except Exception as exc:  # noqa: BLE001 - every failure must still be one JSON object
        return EXIT_PROBLEMS, {"ok": False, "error": f"{type(exc).__name__}: {str(exc)[:3000]}",
                               "traceback": traceback.format_exc()[-4000:]}


def main(argv: list[str] | None = None) -> int:
    _hermetic_env()
    sys.stdout.flush()
    real_stdout = os.dup(1)
    os.dup2(2, 1)  # anything SQLMesh/dbt print (even from C extensions) lands on stderr
    try:
        code, payload = run(list(sys.argv[1:] if argv is None else argv))
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(real_stdout, 1)
        os.close(real_stdout)
    sys.stdout.write(json.dumps(payload, sort_keys=True, default=str) + "\n")
    sys.stdout.flush()
    return code


if __name__ == "__main__":
    sys.exit(main())
