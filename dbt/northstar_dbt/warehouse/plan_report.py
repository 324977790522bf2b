"""Plan a project into a SQLMesh environment and report it: categories, backfill, acknowledgements, rows recomputed.

A BREAKING (direct or indirect) change to a ``finance``-tagged model, or any forward-only change, needs an
acknowledgement; with ``apply`` and a missing acknowledgement nothing is applied. ``virtual_only`` (rollback, pins)
refuses when the plan would need snapshots that no longer exist (the janitor removed them); it needs no new
acknowledgement, since it only re-points views at snapshots built (and acknowledged) before.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from northstar_contracts.base import EXIT_OK, EXIT_PROBLEMS
from northstar_contracts.warehouse import BackfillEntry, ChangeEntry, WarehousePlanReport
from northstar_dbt.warehouse import from_state
from northstar_dbt.warehouse.engine import count_rows, short_name
from northstar_dbt.warehouse.from_state import SourceSet

ACK_TAGS = frozenset({"finance"})
CATEGORY_NAMES = {
    "BREAKING": "breaking",
    "NON_BREAKING": "non-breaking",
    "FORWARD_ONLY": "forward-only",
    "INDIRECT_BREAKING": "indirect-breaking",
    "INDIRECT_NON_BREAKING": "indirect-non-breaking",
    "METADATA": "metadata",
}


def _category(snapshot: Any) -> str:
    if snapshot.change_category is None:
        return "uncategorized"
    return CATEGORY_NAMES.get(snapshot.change_category.name, snapshot.change_category.name.lower())


def _tags(snapshot: Any) -> list[str]:
    return sorted(getattr(snapshot.node, "tags", None) or [])


def is_view(snapshot: Any) -> bool:
    kind = getattr(snapshot, "model_kind_name", None)
    return kind is not None and kind.name in ("VIEW", "EMBEDDED", "EXTERNAL")


def describe_plan(plan: Any, missing: Sequence[Any]) -> dict[str, Any]:
    """Categories per changed node, added/removed nodes, backfill list and acknowledgement requirements (the
    plan fields of :class:`WarehousePlanReport`). ``missing``: ``plan.missing_intervals``, read once by the caller."""
    diff = plan.context_diff
    changes: dict[str, ChangeEntry] = {}
    added_names = {s.name for s in diff.added}

    def record(snapshot: Any, direct: bool) -> None:
        category = _category(snapshot)
        forward_only = bool(snapshot.is_model and snapshot.is_forward_only and category != "metadata")
        is_new = snapshot.name in added_names  # new to this environment's lineage: nothing to break
        changes[short_name(snapshot.name)] = ChangeEntry(
            name=snapshot.name, node="model" if snapshot.is_model else "audit",
            category="added" if is_new else ("forward-only" if forward_only else category), added=is_new,
            sqlmesh_category=category, direct=direct, forward_only=forward_only, tags=_tags(snapshot),
            fingerprint=snapshot.fingerprint.to_identifier())

    for sid in sorted(plan.directly_modified):
        record(plan.snapshots[sid], direct=True)
    for _parent, children in sorted(plan.indirectly_modified.items()):
        for sid in sorted(children):
            if short_name(sid.name) not in changes:
                record(plan.snapshots[sid], direct=False)
    for sid in sorted(plan.metadata_updated):
        if short_name(sid.name) not in changes:
            record(plan.snapshots[sid], direct=True)

    backfill = []
    for si in missing:
        snapshot = plan.snapshots[si.snapshot_id]
        backfill.append(BackfillEntry(model=short_name(snapshot.name), intervals=len(si.intervals),
                                      kind=snapshot.model_kind_name.name if snapshot.model_kind_name else None))
    models = {n: c for n, c in changes.items() if c.node == "model" and not c.added}
    needs_ack = sorted(
        n for n, c in models.items()
        if (c.sqlmesh_category in ("breaking", "indirect-breaking") and ACK_TAGS & set(c.tags)) or c.forward_only
    )
    if plan.forward_only:
        needs_ack = sorted(set(needs_ack) | set(models))
    requires_backfill = plan.requires_backfill  # a property that computes the missing intervals again: read once
    return {
        "environment": plan.environment.name,
        "is_new_environment": diff.is_new_environment,
        "has_changes": plan.has_changes,
        "changes": changes,
        "categories": {n: c.category for n, c in sorted(changes.items())},
        "added": sorted(short_name(s.name) for s in diff.added),
        "removed": sorted(short_name(s.name) for s in diff.removed_snapshots),
        "new_snapshots": sorted(short_name(s.name) for s in plan.new_snapshots),
        "backfill": sorted(backfill, key=lambda b: b.model),
        "requires_backfill": requires_backfill,
        "virtual_update": not requires_backfill,
        "plan_forward_only": bool(plan.forward_only),
        "uncategorized": sorted(short_name(s.name) for s in plan.uncategorized),
        "needs_ack": needs_ack,
    }


def acked(needed: Sequence[str], acks: Sequence[str]) -> tuple[list[str], list[str]]:
    """(acknowledged, missing) among ``needed``; an ack is ``MODEL`` or ``ack:MODEL``, case-insensitive."""
    given = {a.strip().lower() for a in acks if a.strip()}
    ok = [n for n in needed if n.lower() in given or f"ack:{n.lower()}" in given]
    return ok, [n for n in needed if n not in ok]


def plan_into(context: Any, env: str, *, project: Path, apply: bool, virtual_only: bool = False,
              acks: Sequence[str] = (), timings: dict[str, float] | None = None,
              command: str = "plan", source: SourceSet | None = None) -> tuple[int, WarehousePlanReport]:
    """Plan the loaded project into ``env`` (and apply it); exit code 1 with ``error`` when refused.

    With ``source``, the plan is made from SQLMesh state over ``source``'s snapshot set instead of the loaded
    project (:mod:`from_state`); it raises :class:`StateRefusal` before applying anything unless it is a pure
    virtual update. Every other rule (categories, acknowledgements, virtual-only refusal) is the same code.
    """
    timings = {} if timings is None else timings
    t0 = time.monotonic()
    if source is None:
        plan = context.plan_builder(env, include_unmodified=True).build()
    else:
        plan = from_state.plan_builder(context, env, source).build()
    # SQLMesh computes ``missing_intervals`` anew on every access (it may change once applied): ~0.06 s at 214 models
    # on the path of every switch, so it is read once here for everything decided before the apply.
    missing = plan.missing_intervals
    if source is not None:
        from_state.require_virtual(plan, env, source.environment, missing)
    timings["plan_s"] = round(time.monotonic() - t0, 3)
    fields = describe_plan(plan, missing)
    ok_acks, missing = acked(fields["needs_ack"], acks)
    fields.update(command=command, project=str(project), acknowledged=ok_acks, missing_ack=missing, applied=False,
                  rows_recomputed=0, timings=timings, from_state=source.environment if source else None)

    def refused(error: str, **extra: Any) -> tuple[int, WarehousePlanReport]:
        return EXIT_PROBLEMS, WarehousePlanReport(ok=False, error=error, **fields, **extra)

    if fields["uncategorized"]:
        return refused(f"SQLMesh could not categorize: {', '.join(fields['uncategorized'])}")
    gone = sorted(short_name(s.name) for s in plan.new_snapshots if s.is_model)
    if virtual_only and gone:
        return refused(f"refused: the snapshots of {', '.join(gone)} are not in the warehouse state any more (removed "
                       f"by the janitor after their TTL, or never built); switching {env} to this project would "
                       f"recompute them, so this is not a virtual rollback. Deploy it as a new release instead.",
                       snapshots_gone=gone)
    if not apply:
        return EXIT_OK, WarehousePlanReport(ok=True, **fields)
    # Virtual-only plans (rollback to a known-good release, pins) reuse snapshots exactly as they were built and
    # acknowledged when first deployed: they recompute nothing, so they need no new acknowledgement.
    if missing and not virtual_only:
        return refused(f"acknowledgement required for {', '.join(missing)} (breaking change to a finance model or "
                       f"forward-only change); nothing applied")
    if not plan.has_changes:
        return EXIT_OK, WarehousePlanReport(ok=True, message=f"{env} already matches the project: nothing to apply",
                                            **fields)
    t0 = time.monotonic()
    context.apply(plan)
    timings["apply_s"] = round(time.monotonic() - t0, 3)
    recomputed: dict[str, int] = {}
    views: list[str] = []
    for si in plan.missing_intervals:
        snapshot = plan.snapshots[si.snapshot_id]
        if is_view(snapshot):
            views.append(short_name(snapshot.name))
        elif snapshot.is_model:
            recomputed[short_name(snapshot.name)] = count_rows(context, snapshot.table_name())
    fields.update(applied=True, rows_recomputed=sum(recomputed.values()), rows_recomputed_by_model=recomputed,
                  views_recreated=sorted(views))
    return EXIT_OK, WarehousePlanReport(ok=True, **fields)
