"""Pins: a never-expiring environment ``keep_NAME`` over a project's snapshots keeps them alive against the janitor,
so rollbacks to known-good releases stay recompute-free. Pinning is a virtual-only plan (a virtual update)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from northstar_contracts.base import EXIT_OK
from northstar_contracts.harness import UsageError
from northstar_contracts.warehouse import PinsResult, WarehousePlanReport
from northstar_dbt.warehouse import from_state
from northstar_dbt.warehouse.plan_report import plan_into

PIN_PREFIX = "keep_"


def pin_env(name: str) -> str:
    """``rel-v2`` -> ``keep_rel_v2`` (already prefixed names are kept)."""
    from sqlmesh.core.environment import Environment

    clean = "".join(ch if ch.isalnum() else "_" for ch in name.lower()).strip("_")
    if not clean:
        raise UsageError(f"invalid pin name {name!r}")
    return str(Environment.sanitize_name(clean if clean.startswith(PIN_PREFIX) else PIN_PREFIX + clean))


def pin(context: Any, name: str, project: Path, from_env: str | None = None,
        source: from_state.SourceSet | None = None) -> tuple[int, WarehousePlanReport]:
    """Plan the loaded project (virtual-only) into the pin environment for ``name``; with ``from_env``, pin that
    environment's snapshot set from SQLMesh state instead (no project loaded; see :mod:`from_state`). ``source``:
    that snapshot set, already read (:func:`served_source`), so state is not read twice."""
    env = pin_env(name)
    context.pinned_environments = set(context.pinned_environments) | {env}
    if source is None and from_env:
        source = from_state.find_source(context, [from_env])
    return plan_into(context, env, project=project, apply=True, virtual_only=True, command="pin", source=source)


def served_source(context: Any, env: str, source: from_state.SourceSet) -> from_state.SourceSet | None:
    """``source`` when ``env``'s environment record now holds exactly its snapshot set (a switch from state made it
    so), else None: the pin then reads ``env``'s snapshots from state again. One environment record is read, not
    the ~200 snapshots, which is what makes re-reading them cost seconds."""
    from sqlmesh.core.environment import Environment

    record = context.state_reader.get_environment(Environment.sanitize_name(env))
    if record is None or not record.finalized_ts:
        return None
    served = {s.snapshot_id for s in record.snapshots}
    return source if served == {s.snapshot_id for s in source.snapshots.values()} else None


def unpin(context: Any, name: str) -> str:
    """Invalidate the pin environment: the janitor removes it, then its unreferenced snapshots after the TTL."""
    env = pin_env(name)
    context.invalidate_environment(env)
    return env


def pin_and_unpin(context: Any, project: Path, new_pin: str | None, old_pins: Sequence[str],
                  from_env: str | None = None, source: from_state.SourceSet | None = None) -> PinsResult:
    """After a verified switch: pin these snapshots (``from_env``: that environment's, read from state, or
    ``source`` when it is known to be that set) as ``new_pin`` and release ``old_pins``."""
    pinned = pin_error = None
    if new_pin:
        try:
            code, report = pin(context, new_pin, project, from_env, source)
        except from_state.StateRefusal as exc:
            pin_error = f"pin {pin_env(new_pin)} not made: {exc}"
        else:
            pinned = pin_env(new_pin) if code == EXIT_OK else None
            pin_error = None if code == EXIT_OK else report.error
    return PinsResult(pinned=pinned, unpinned=[unpin(context, old) for old in old_pins], pin_error=pin_error)
