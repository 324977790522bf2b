"""``serving``: which verified release a SQLMesh environment really serves, read from SQLMesh state alone.

Why: the release engine records the digest it switched an env to (``LIVE`` and its state), but a killed CLI whose
component process kept running, or a kill between SQLMesh's apply and the engine's record, can leave SQLMesh serving
another snapshot set. Every verified deploy pins its snapshot set as ``keep_<env>_<sha12>`` (``pins``), so "which
release does ENV serve" is "which candidate pin holds exactly ENV's snapshot set": the same model names with the same
fingerprints and versions. Only environment records are read -- straight from a DuckDB state file
(:mod:`state_tables`), else through ``Context(load=False)`` -- so the check costs a process start and a state read,
not a project load.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from northstar_contracts.harness import Outcome, UsageError
from northstar_contracts.warehouse import ServingCandidate, WarehouseServingReport
from northstar_dbt.warehouse import state_tables
from northstar_dbt.warehouse.engine import session, short_name, warehouse_lock
from northstar_dbt.warehouse.options import WarehouseOptions

UNKNOWN = "unknown"
ABSENT = "absent"
MAX_LISTED = 20


def parse_candidates(values: Sequence[str]) -> list[tuple[str, str]]:
    """``SHA=PINENV`` -> (sha, pin env); a value without ``=`` or with an empty side is a usage error (exit 2)."""
    out = []
    for value in values:
        sha, sep, pin = value.partition("=")
        if not sep or not sha.strip() or not pin.strip():
            raise UsageError(f"--candidate {value!r}: expected SHA=PIN_ENVIRONMENT")
        out.append((sha.strip(), pin.strip()))
    return out


def snapshot_map(env: Any) -> dict[str, tuple[str, str]]:
    """Model name -> (fingerprint identifier, version) of an environment record's snapshots."""
    return {s.name: (s.identifier, s.version) for s in env.snapshots}


def differing(a: dict[str, tuple[str, str]], b: dict[str, tuple[str, str]]) -> list[str]:
    """Short names of the models present in only one map or mapped to another snapshot (sorted)."""
    return sorted(short_name(n) for n in set(a) | set(b) if a.get(n) != b.get(n))


def cmd_serving(opts: WarehouseOptions) -> Outcome:
    """Compare ``--env``'s snapshot set with each candidate pin's; report the first exact match or ``unknown``.

    A DuckDB state of a checked SQLMesh version is read directly (:mod:`state_tables`, no SQLMesh import); any other
    state goes through SQLMesh's state reader. Both read under the warehouse lock and compare the same fields."""
    candidates = parse_candidates(opts.candidates)
    timings: dict[str, float] = {}
    if opts.state_url is None and opts.state is not None:
        with warehouse_lock(opts.warehouse_file) as waited:
            timings["lock_wait_s"] = round(waited, 3)
            t0 = time.monotonic()
            records = state_tables.read_environments(opts.state, [opts.environment, *(p for _, p in candidates)])
            # ``direct_read_s``: read without SQLMesh (state_tables); ``read_s``: through SQLMesh's state reader
            timings["direct_read_s"] = round(time.monotonic() - t0, 3)
        if records is not None:
            return _report(state_tables.sanitize_name(opts.environment), candidates, records.get, timings)

    from sqlmesh.core.environment import Environment

    def lookup(name: str) -> state_tables.EnvRecord | None:
        env = reader.get_environment(Environment.sanitize_name(name))
        if env is None:
            return None
        return state_tables.EnvRecord(name=env.name, finalized=bool(env.finalized_ts), expired=env.expired,
                                      snapshots=snapshot_map(env))

    with session(opts, timings, load=False) as context:
        t0 = time.monotonic()
        reader = context.state_reader
        outcome = _report(Environment.sanitize_name(opts.environment), candidates, lookup, timings)
        timings["read_s"] = round(time.monotonic() - t0, 3)
        return outcome


def _report(name: str, candidates: list[tuple[str, str]],
            lookup: Callable[[str], state_tables.EnvRecord | None], timings: dict[str, float]) -> Outcome:
    env = lookup(name)
    if env is None:
        return Outcome.of(WarehouseServingReport(
            environment=name, exists=False, finalized=False, snapshots=0, serving=ABSENT, timings=timings,
            candidates=[ServingCandidate(sha256=sha, pin=pin, status="not compared", differing=[])
                        for sha, pin in candidates]))
    results: list[ServingCandidate] = []
    match: str | None = None
    for sha, pin in candidates:
        pinned = lookup(state_tables.sanitize_name(pin))
        if pinned is None or pinned.expired or not pinned.finalized:
            results.append(ServingCandidate(sha256=sha, pin=pin, status="no pin", differing=[]))
            continue
        diff = differing(env.snapshots, pinned.snapshots)
        results.append(ServingCandidate(sha256=sha, pin=pin, status="differs" if diff else "match",
                                        differing=diff[:MAX_LISTED]))
        if not diff and match is None:
            match = sha
    return Outcome.of(WarehouseServingReport(
        environment=name, exists=True, finalized=env.finalized, snapshots=len(env.snapshots), timings=timings,
        serving=match if (match is not None and env.finalized) else UNKNOWN, candidates=results))
