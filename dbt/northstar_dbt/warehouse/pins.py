"""Pins: a never-expiring environment ``keep_NAME`` over a project's snapshots keeps them alive against the janitor,
so rollbacks to known-good releases stay recompute-free.

Two ways to make one:
- after a verified switch (``pin_and_unpin``): the switched environment's RECORD is copied into SQLMesh state under
  the pin's name (``pin_from_env``), with no views. A pin is only ever read from state (the janitor's references,
  ``from_state.find_source``, ``serving``); nothing queries its views, and creating one view per model doubled the
  cost of every verified switch (a second virtual update of ~217 views).
- ``pin --name`` on a loaded project (``pin``): a virtual-only plan into the pin environment, views included."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

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


def pin(context: Any, name: str, project: Path) -> tuple[int, WarehousePlanReport]:
    """Plan the loaded project (virtual-only) into the pin environment for ``name``, views included."""
    env = pin_env(name)
    context.pinned_environments = set(context.pinned_environments) | {env}
    return plan_into(context, env, project=project, apply=True, virtual_only=True, command="pin")


def pin_from_env(context: Any, name: str, env: str) -> str:
    """Pin ``env``'s snapshot set as ``keep_<name>``: its finalized environment record (snapshots, requirements,
    statements) written again under the pin's name and finalized, never expiring. No view is created. Raises
    :class:`from_state.StateRefusal` when ``env`` has no finalized, unexpired record (nothing is written)."""
    from sqlmesh.core.environment import Environment
    from sqlmesh.utils import random_id

    source_name = Environment.sanitize_name(env)
    source = context.state_reader.get_environment(source_name)
    if source is None or source.expired or not source.finalized_ts:
        raise from_state.StateRefusal(f"{source_name}: no finalized SQLMesh environment to pin")
    target = pin_env(name)
    existing = context.state_reader.get_environment(target)
    record = source.model_copy(update={
        "name": target, "plan_id": random_id(), "expiration_ts": None, "finalized_ts": None,
        # SQLMesh refuses to overwrite an unexpired environment unless the record names its last plan.
        "previous_plan_id": existing.plan_id if existing is not None and not existing.expired else None})
    statements = list(context.state_reader.get_environment_statements(source_name) or [])
    context.state_sync.promote(record, no_gaps_snapshot_names=set(), environment_statements=statements)
    context.state_sync.finalize(record)
    return target


def unpin(context: Any, name: str) -> str:
    """Invalidate the pin environment: the janitor removes it, then its unreferenced snapshots after the TTL."""
    env = pin_env(name)
    context.invalidate_environment(env)
    return env


def pin_and_unpin(context: Any, env: str, new_pin: str | None, old_pins: Sequence[str]) -> PinsResult:
    """After a verified switch of ``env``: pin its snapshot set as ``new_pin`` (:func:`pin_from_env`) and release
    ``old_pins``. A pin that cannot be made is reported in ``pin_error``; the switch itself stands."""
    pinned = pin_error = None
    if new_pin:
        try:
            pinned = pin_from_env(context, new_pin, env)
        except from_state.StateRefusal as exc:
            pin_error = f"pin {pin_env(new_pin)} not made: {exc}"
    return PinsResult(pinned=pinned, unpinned=[unpin(context, old) for old in old_pins], pin_error=pin_error)
