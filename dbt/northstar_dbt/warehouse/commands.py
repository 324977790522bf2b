"""One function per subcommand: options record in, :class:`~northstar_contracts.harness.Outcome` out.

Each command takes the warehouse lock and loads the project at most once (:func:`engine.session`); every step after
that (apply, tables, audits, pins) reuses the loaded context.
"""

from __future__ import annotations

import contextlib
import dataclasses
import gc
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from northstar_contracts.base import EXIT_OK, EXIT_PROBLEMS
from northstar_contracts.harness import Outcome, Refused
from northstar_contracts.warehouse import (
    EnvironmentEntry,
    WarehouseAuditReport,
    WarehouseCheckReport,
    WarehouseEnvsReport,
    WarehouseJanitorReport,
    WarehouseUnpinReport,
    WarehouseVerifyReport,
)
from northstar_dbt.warehouse import build_errors, pins
from northstar_dbt.warehouse.audits import failed_names, run_audits, tables_of, verify_env, virtual_update_reason
from northstar_dbt.warehouse.engine import session
from northstar_dbt.warehouse.from_state import StateRefusal, find_source
from northstar_dbt.warehouse.options import WarehouseOptions
from northstar_dbt.warehouse.plan_report import plan_into
from northstar_dbt.warehouse.unit_tests import run_unit_tests


def cmd_plan(opts: WarehouseOptions) -> Outcome:
    """Plan (and apply); with ``--apply --verify``: tables + audits of the env and, when verified, pins -- all on
    the one loaded context.

    ``--from-env SRC`` first tries the plan from SQLMesh state over SRC's snapshot set, without loading the project
    (:mod:`from_state`); when that is refused (nothing changed) it falls back to loading the project and says why in
    ``state_fallback`` -- or, with ``--state-only``, ends with that refusal (exit 1).
    """
    fallback: str | None = None
    if opts.from_envs:
        try:
            return _plan_from_state(opts)
        except StateRefusal as exc:
            if opts.state_only:
                raise Refused(f"refused: {exc}; nothing changed in {opts.environment}",
                              environment=opts.environment, from_envs=list(opts.from_envs)) from None
            fallback = str(exc)
    timings: dict[str, float] = {}
    with session(opts, timings) as context:
        code, report = plan_into(context, opts.environment, project=opts.project, apply=opts.apply,
                                 virtual_only=opts.virtual_only, acks=opts.acks, timings=timings)
        report = dataclasses.replace(report, state_fallback=fallback)
        if code == EXIT_OK and opts.apply and opts.verify:
            verified = verify_env(context, opts.environment, virtual_update_reason(report))
            pinned = pins.pin_and_unpin(context, opts.environment, opts.pin, opts.unpin) if verified.ok else None
            report = dataclasses.replace(report, verify=verified, pins=pinned)
        return Outcome(code, report)


@contextlib.contextmanager
def _cycle_collection_paused() -> Iterator[None]:
    """No cyclic garbage collection inside the block. Why: reading a source environment's ~200 snapshots unpickles
    their sqlglot trees, and the collector's passes over those fresh objects were 30-40 % of the read (1.1 s -> 0.7 s
    at 214 models, peak memory unchanged at ~230 MB). Only for bounded work: a project load keeps collecting.

    On the way out the block's objects are frozen (moved out of the collector's reach) rather than collected: the
    entry point answers one command per process and ends without teardown (``exit_now``), so the full collection the
    collector started right after the block (0.18 s, measured, before the answer was printed) bought nothing."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.freeze()
            gc.enable()


def _plan_from_state(opts: WarehouseOptions) -> Outcome:
    """The plan (apply, tables, pins) over a source environment's snapshot set, read from SQLMesh state.

    Raises :class:`StateRefusal` before anything is applied when that is not a pure virtual update. Audits are not
    re-run (:func:`audits.verify_env`): every snapshot of a finalized source environment was audited when built.
    """
    timings: dict[str, float] = {}
    with _cycle_collection_paused(), session(opts, timings, load=False) as context:
        t0 = time.monotonic()
        source = find_source(context, opts.from_envs)
        timings["source_s"] = round(time.monotonic() - t0, 3)
        code, report = plan_into(context, opts.environment, project=opts.project, apply=opts.apply,
                                 virtual_only=opts.virtual_only, acks=opts.acks, timings=timings, source=source)
        if code == EXIT_OK and opts.apply and opts.verify:
            reason = virtual_update_reason(report) or "virtual update from state"
            verified = verify_env(context, opts.environment, reason)
            timings["verify_s"] = verified.seconds
            t0 = time.monotonic()
            pinned = pins.pin_and_unpin(context, opts.environment, opts.pin, opts.unpin) if verified.ok else None
            timings["pins_s"] = round(time.monotonic() - t0, 3)
            report = dataclasses.replace(report, verify=verified, pins=pinned, timings=dict(timings))
        return Outcome(code, report)


def cmd_verify(opts: WarehouseOptions) -> Outcome:
    with session(opts) as context:
        verified = verify_env(context, opts.environment)
        pinned = pins.pin_and_unpin(context, opts.environment, opts.pin, opts.unpin) if verified.ok else None
        return Outcome.of(WarehouseVerifyReport(
            ok=verified.ok, tables=verified.tables, plan_id=verified.plan_id, audits_passed=verified.audits_passed,
            audits_failed=verified.audits_failed, audits=verified.audits, seconds=verified.seconds, pins=pinned))


def cmd_tables(opts: WarehouseOptions) -> Outcome:
    with session(opts) as context:
        return Outcome.of(tables_of(context, opts.environment))


def audit_report(opts: WarehouseOptions) -> WarehouseAuditReport:
    """Every audit; with ``scratch`` the project is first built into a throw-away warehouse + state (nothing shared
    changes), otherwise the project's snapshots are audited as built in the given warehouse."""
    timings: dict[str, float] = {}
    scratch_dir = Path(tempfile.mkdtemp(prefix="wh-audit-")) if opts.scratch else None
    build_error: str | None = None
    sql_failed = False
    try:
        where = opts.in_scratch(scratch_dir) if scratch_dir is not None else opts
        with session(where, timings) as context:
            if scratch_dir is not None:
                t0 = time.monotonic()
                plan = context.plan_builder("prod", include_unmodified=True).build()
                with build_errors.capturing(context) as capture:
                    try:
                        context.apply(plan)
                    except Exception as exc:  # noqa: BLE001 - blocking audits and the failed model's SQL error
                        failures = build_errors.failures(capture.failed, exc)
                        build_error = build_errors.summary(failures)
                        sql_failed = build_errors.sql_failed(failures)
                timings["build_s"] = round(time.monotonic() - t0, 3)
            t0 = time.monotonic()
            # After a model's SQL failed, audits would only hit its missing table downstream: the root cause is above.
            results = [] if sql_failed else run_audits(context)
            timings["audit_s"] = round(time.monotonic() - t0, 3)
    finally:
        if scratch_dir is not None:
            shutil.rmtree(scratch_dir, ignore_errors=True)
    failed = failed_names(results)
    return WarehouseAuditReport(ok=not failed and build_error is None, mode="scratch" if opts.scratch else "warehouse",
                                audits=results, passed=sum(r.status == "pass" for r in results), failed=failed,
                                skipped=sum(r.status == "skipped" for r in results), timings=timings,
                                build_error=build_error)


def cmd_audit(opts: WarehouseOptions) -> Outcome:
    return Outcome.of(audit_report(opts))


def cmd_unit_test(opts: WarehouseOptions) -> Outcome:
    return Outcome.of(run_unit_tests(opts.project))


def cmd_check(opts: WarehouseOptions) -> Outcome:
    """The pre-deploy gate in one process: unit tests, the scratch audit and a non-applying plan into the env."""
    t0 = time.monotonic()
    unit = run_unit_tests(opts.project)
    audit = audit_report(dataclasses.replace(opts, scratch=True))
    plan_timings: dict[str, float] = {}
    with session(opts, plan_timings) as context:
        code, plan = plan_into(context, opts.environment, project=opts.project, apply=False, acks=opts.acks,
                               timings=plan_timings)
    ok = unit.ok and audit.ok and code == EXIT_OK and not plan.missing_ack
    record = WarehouseCheckReport(ok=ok, unit_test=unit, audit=audit, plan=plan,
                                  timings={"total_s": round(time.monotonic() - t0, 3)})
    return Outcome(EXIT_OK if ok else EXIT_PROBLEMS, record)


def cmd_pin(opts: WarehouseOptions) -> Outcome:
    with session(opts) as context:
        code, report = pins.pin(context, opts.name or "", opts.project)
        return Outcome(code, dataclasses.replace(report, pin=pins.pin_env(opts.name or "")))


def cmd_unpin(opts: WarehouseOptions) -> Outcome:
    with session(opts) as context:
        return Outcome.of(WarehouseUnpinReport(
            unpinned=pins.unpin(context, opts.name or ""),
            note="the janitor removes the environment, then its unreferenced snapshots after snapshot_ttl"))


def cmd_envs(opts: WarehouseOptions) -> Outcome:
    with session(opts) as context:
        envs = [EnvironmentEntry(name=e.name, expiration_ts=e.expiration_ts, expired=e.expired,
                                 snapshots=len(e.snapshots), plan_id=e.plan_id,
                                 pinned=e.name.startswith(pins.PIN_PREFIX))
                for e in context.state_reader.get_environments()]
        return Outcome.of(WarehouseEnvsReport(environments=sorted(envs, key=lambda x: x.name)))


def cmd_janitor(opts: WarehouseOptions) -> Outcome:
    with session(opts) as context:
        ok = bool(context.run_janitor(ignore_ttl=opts.ignore_ttl))
        return Outcome.of(WarehouseJanitorReport(ok=ok, ignore_ttl=opts.ignore_ttl))

