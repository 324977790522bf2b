"""Virtual update from SQLMesh state: point an environment at the snapshot set another environment already holds,
without loading the dbt project.

Why: loading the dbt project is what a promotion or rollback costs (37-56 s at 214 models on 2 busy cores), yet a
promotion or rollback of an artifact whose snapshots were built before recomputes nothing: it only re-points views.
Every snapshot records its full model definition, its intervals and its change category in SQLMesh state, so the
plan can be made from state alone.

Why it is sound: a plan of the project into an environment is ``ContextDiff.create(env, snapshots=<the project's
snapshots>)`` followed by ``PlanBuilder``; for snapshots that exist, SQLMesh itself uses the *stored* snapshot
objects (``Context._snapshots``). The source environment named by the caller (a pin ``keep_<env>_<sha12>`` made by a
verified deploy of that very artifact, see ``pins``) holds exactly the snapshot set a load of the same project bytes
yields, so handing those stored snapshots to ``ContextDiff.create`` and ``PlanBuilder`` is the same plan, built and
applied by SQLMesh's own evaluator (view promotion, unpausing in prod, environment record, finalization). What makes
it unsound is refused before anything changes (:class:`StateRefusal`), and the caller falls back to loading the
project:
- the source environment is missing, expired or not finalized (a plan into it never completed);
- a snapshot of it is no longer in state (the janitor) or is unrestorable (SQLMesh would restamp the model);
- the plan would create a snapshot or compute any interval: that is a build, not a virtual update.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from northstar_dbt.warehouse.engine import short_name


class StateRefusal(Exception):
    """The virtual update cannot be made from state (nothing was changed); say why."""


@dataclass(frozen=True)
class SourceSet:
    """The snapshot set of a source environment as SQLMesh state holds it."""

    environment: str
    snapshots: dict[str, Any]  # node name -> stored Snapshot
    requirements: dict[str, str] = field(default_factory=dict)
    statements: list[Any] = field(default_factory=list)


def find_source(context: Any, candidates: Sequence[str]) -> SourceSet:
    """The first candidate environment whose every snapshot is in state and restorable; else :class:`StateRefusal`."""
    from sqlmesh.core.environment import Environment

    reasons: list[str] = []
    for candidate in candidates:
        name = Environment.sanitize_name(candidate)
        env = context.state_reader.get_environment(name)
        if env is None:
            reasons.append(f"{name}: no such SQLMesh environment")
            continue
        if env.expired:
            reasons.append(f"{name}: expired")
            continue
        if not env.finalized_ts:
            reasons.append(f"{name}: not finalized (a plan into it did not complete)")
            continue
        stored = context.state_reader.get_snapshots(env.snapshots)
        missing = sorted(short_name(s.name) for s in env.snapshots if s.snapshot_id not in stored)
        if missing:
            reasons.append(f"{name}: snapshots no longer in state: {', '.join(missing)}")
            continue
        unrestorable = sorted(short_name(s.name) for s in stored.values() if s.unrestorable)
        if unrestorable:
            reasons.append(f"{name}: unrestorable snapshots: {', '.join(unrestorable)}")
            continue
        return SourceSet(environment=name, snapshots={s.name: s for s in stored.values()},
                         requirements=dict(env.requirements or {}),
                         statements=list(context.state_reader.get_environment_statements(name) or []))
    raise StateRefusal("no usable source environment in SQLMesh state (" + ("; ".join(reasons) or "none named") + ")")


def plan_builder(context: Any, env: str, source: SourceSet) -> Any:
    """A ``PlanBuilder`` for ``env`` over ``source``'s stored snapshots, with the arguments ``Context.plan_builder``
    gives a plain ``plan_builder(env, include_unmodified=True)`` (no restatement, selection or backfill filter)."""
    from sqlmesh.core import constants as c
    from sqlmesh.core.context_diff import ContextDiff
    from sqlmesh.core.environment import Environment
    from sqlmesh.utils.date import now

    env = Environment.sanitize_name(env)
    config = context.config
    diff = ContextDiff.create(
        env, snapshots=source.snapshots, create_from=c.PROD, state_reader=context.state_reader,
        ensure_finalized_snapshots=config.plan.use_finalized_state, provided_requirements=source.requirements,
        environment_statements=source.statements,
        gateway_managed_virtual_layer=config.gateway_managed_virtual_layer,
        infer_python_dependencies=config.infer_python_dependencies)
    modified = {*diff.modified_snapshots, *(s.name for s in diff.added)}
    # The same defaults Context.plan_builder computes (prod's max interval end bounds the plan).
    max_end = context._get_max_interval_end_per_model(source.snapshots, None)  # noqa: SLF001
    default_start, default_end = context._get_plan_default_start_end(  # noqa: SLF001
        source.snapshots, max_end, None, modified, now())
    context.state_sync.refresh_snapshot_intervals(diff.snapshots.values())
    return context.PLAN_BUILDER_TYPE(
        context_diff=diff, apply=context.apply, is_dev=env != c.PROD,
        forward_only=bool(config.plan.forward_only) or not config.virtual_environment_mode.is_full,
        environment_ttl=None if env in context.pinned_environments else context.environment_ttl,
        environment_suffix_target=config.environment_suffix_target,
        environment_catalog_mapping=context.environment_catalog_mapping,
        categorizer_config=context.auto_categorize_changes, include_unmodified=True,
        default_start=default_start, default_end=default_end,
        enable_preview=context._plan_preview_enabled,  # noqa: SLF001
        end_bounded=True, ensure_finalized_snapshots=config.plan.use_finalized_state,
        end_override_per_model=max_end, console=context.console,
        user_provided_flags={"include_unmodified": True},
        selected_models={uid for s in source.snapshots.values() if (uid := getattr(s.node, "dbt_unique_id", None))})


def require_virtual(plan: Any, env: str, source: str, missing: Sequence[Any]) -> None:
    """Refuse (before applying) a plan from state that would create a snapshot or compute an interval (``missing``:
    the plan's ``missing_intervals``)."""
    new = sorted(short_name(s.name) for s in plan.new_snapshots)
    if new:
        raise StateRefusal(f"switching {env} to the snapshots of {source} would create new snapshots "
                           f"({', '.join(new)}): not a virtual update")
    gaps = sorted(short_name(plan.snapshots[si.snapshot_id].name) for si in missing)
    if gaps:
        raise StateRefusal(f"switching {env} to the snapshots of {source} would compute missing intervals of "
                           f"{', '.join(gaps)}: not a virtual update")
