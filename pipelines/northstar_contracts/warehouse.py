"""Records of the ``warehouse`` entry point (``northstar_dbt.warehouse``): one per subcommand.

Field names are the ones the engine's warehouse adapter and the demo read today; nested shapes are records too.
Every top-level record carries ``command`` (the subcommand) and ``ok``.

Speed: ``check`` runs unit tests, the scratch audit and the dry-run plan in ONE process (the pre-deploy gate: one
process start and one dbt manifest parse instead of three); ``plan --apply --verify [--pin NAME] [--unpin NAME]``
already plans, applies, reads the tables, audits and pins in one process and one project load (the deploy step).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from northstar_contracts.base import Record

ENTRY_POINT = "warehouse"


@dataclasses.dataclass(frozen=True, kw_only=True)
class ChangeEntry(Record):
    """One changed node of a plan and how SQLMesh categorized it (``category`` folds in added / forward-only)."""

    name: str
    node: str  # "model" | "audit"
    category: str
    added: bool
    sqlmesh_category: str
    direct: bool
    forward_only: bool
    tags: list[str]
    fingerprint: str


@dataclasses.dataclass(frozen=True, kw_only=True)
class BackfillEntry(Record):
    model: str
    intervals: int
    kind: str | None


@dataclasses.dataclass(frozen=True, kw_only=True)
class TableFingerprint(Record):
    """A model as an environment sees it: row count and md5 of its sorted rows."""

    relation: str
    rows: int
    checksum: str
    fingerprint: str


@dataclasses.dataclass(frozen=True, kw_only=True)
class AuditResult(Record):
    audit: str
    model: str | None
    node: str
    status: str  # "pass" | "fail" | "skipped"
    failing_rows: int
    blocking: bool
    query: str | None = None  # the failing audit's SQL (only when it failed)


@dataclasses.dataclass(frozen=True, kw_only=True)
class UnitTestResult(Record):
    test: str
    model: str | None
    status: str
    message: str


@dataclasses.dataclass(frozen=True, kw_only=True)
class PinsResult(Record):
    """Pins made after a verified switch: ``pinned`` is the pin environment (None when not pinned)."""

    pinned: str | None = None
    unpinned: list[str] = dataclasses.field(default_factory=list)
    pin_error: str | None = None


@dataclasses.dataclass(frozen=True, kw_only=True)
class VerifyResult(Record):
    """Tables + audits of an environment (post-apply inside a plan report, or the ``verify`` subcommand)."""

    ok: bool
    tables: dict[str, TableFingerprint]
    plan_id: str
    audits_passed: int
    audits_failed: list[str]
    audits: list[AuditResult]
    seconds: float
    pins: PinsResult | None = None


@dataclasses.dataclass(frozen=True, kw_only=True)
class WarehouseVerifyReport(VerifyResult):
    """``verify --env ENV [--pin NAME] [--unpin NAME]``."""

    command: str = "verify"


@dataclasses.dataclass(frozen=True, kw_only=True)
class WarehousePlanReport(Record):
    """``plan`` (also ``pin``, which is a virtual-only plan into ``keep_NAME`` and sets ``pin``).

    ``ok`` false with exit 1: ``error`` says why (missing acknowledgement, uncategorized change, snapshots gone).
    ``verify``/``pins`` are set by ``--apply --verify``.
    """

    command: str = "plan"
    ok: bool
    project: str
    environment: str
    is_new_environment: bool
    has_changes: bool
    changes: dict[str, ChangeEntry]
    categories: dict[str, str]
    added: list[str]
    removed: list[str]
    new_snapshots: list[str]
    backfill: list[BackfillEntry]
    requires_backfill: bool
    virtual_update: bool
    plan_forward_only: bool
    uncategorized: list[str]
    needs_ack: list[str]
    acknowledged: list[str]
    missing_ack: list[str]
    applied: bool
    rows_recomputed: int
    rows_recomputed_by_model: dict[str, int] = dataclasses.field(default_factory=dict)
    views_recreated: list[str] = dataclasses.field(default_factory=list)
    timings: dict[str, float] = dataclasses.field(default_factory=dict)
    error: str | None = None
    message: str | None = None
    snapshots_gone: list[str] | None = None
    verify: VerifyResult | None = None
    pins: PinsResult | None = None
    pin: str | None = None


@dataclasses.dataclass(frozen=True, kw_only=True)
class WarehouseAuditReport(Record):
    """``audit [--scratch]``: every SQLMesh audit (dbt schema + singular tests); ``failed`` names ``audit on model``."""

    command: str = "audit"
    ok: bool
    mode: str  # "scratch" | "warehouse"
    audits: list[AuditResult]
    passed: int
    failed: list[str]
    skipped: int
    timings: dict[str, float] = dataclasses.field(default_factory=dict)
    build_error: str | None = None


@dataclasses.dataclass(frozen=True, kw_only=True)
class WarehouseUnitTestReport(Record):
    """``unit-test``: dbt ``unit_tests:`` run by dbt-core on a scratch DuckDB."""

    command: str = "unit-test"
    ok: bool
    unit_tests: list[UnitTestResult]
    passed: int
    failed: list[str]
    upstream_failures: list[str]
    timings: dict[str, float] = dataclasses.field(default_factory=dict)
    error: str | None = None


@dataclasses.dataclass(frozen=True, kw_only=True)
class WarehouseCheckReport(Record):
    """``check --env ENV [--ack MODEL ...]``: the pre-deploy gate in ONE process -- ``unit-test`` + ``audit
    --scratch`` + a non-applying ``plan`` into ENV -- each part exactly the record its own subcommand prints.

    ``ok`` = unit tests and audits pass, the plan succeeded and it needs no acknowledgement that is missing
    (``plan.missing_ack``). Replaces three entry-point calls (and three project loads) per check.
    """

    command: str = "check"
    ok: bool
    unit_test: WarehouseUnitTestReport
    audit: WarehouseAuditReport
    plan: WarehousePlanReport
    timings: dict[str, float] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True, kw_only=True)
class WarehouseTablesReport(Record):
    """``tables --env ENV``: row count + checksum per model ("prod unchanged" evidence)."""

    command: str = "tables"
    ok: bool = True
    environment: str
    plan_id: str
    tables: dict[str, TableFingerprint]


@dataclasses.dataclass(frozen=True, kw_only=True)
class WarehouseUnpinReport(Record):
    command: str = "unpin"
    ok: bool = True
    unpinned: str
    note: str


@dataclasses.dataclass(frozen=True, kw_only=True)
class EnvironmentEntry(Record):
    name: str
    expiration_ts: int | None
    expired: bool
    snapshots: int
    plan_id: str
    pinned: bool


@dataclasses.dataclass(frozen=True, kw_only=True)
class WarehouseEnvsReport(Record):
    command: str = "envs"
    ok: bool = True
    environments: list[EnvironmentEntry]


@dataclasses.dataclass(frozen=True, kw_only=True)
class WarehouseJanitorReport(Record):
    command: str = "janitor"
    ok: bool
    ignore_ttl: bool


RECORDS: dict[str, type[Record]] = {
    "plan": WarehousePlanReport,
    "pin": WarehousePlanReport,
    "verify": WarehouseVerifyReport,
    "audit": WarehouseAuditReport,
    "unit-test": WarehouseUnitTestReport,
    "check": WarehouseCheckReport,
    "tables": WarehouseTablesReport,
    "unpin": WarehouseUnpinReport,
    "envs": WarehouseEnvsReport,
    "janitor": WarehouseJanitorReport,
}
"""Subcommand -> the record it prints on success or on a reported problem (else an ``ErrorRecord``)."""


def parse_warehouse(payload: dict[str, Any]) -> Record:
    """The record for a warehouse payload, chosen by its ``command`` field (an ``ErrorRecord`` if it is one)."""
    from northstar_contracts.base import parse_result

    record = RECORDS.get(str(payload.get("command")))
    if record is None and "kind" not in payload:
        from northstar_contracts.base import ContractError

        raise ContractError(f"warehouse payload has unknown command {payload.get('command')!r}")
    return parse_result(record or WarehousePlanReport, payload)
