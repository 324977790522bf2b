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
    """A model as an environment sees it: row count and md5 of its sorted rows.

    ``checksum`` is None when only the rows were counted: the read that verifies a pure virtual update (views
    re-pointed at tables checksummed when they were built) must not scan every table's data.
    """

    relation: str
    rows: int
    checksum: str | None
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
    # Why the audits were not re-run (a pure virtual update: every snapshot was audited when it was built); None
    # when they ran.
    audits_skipped: str | None = None


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
    # Planned from SQLMesh state over this source environment's snapshot set, without loading the project (a
    # virtual update: ``rows_recomputed`` is 0); None: planned from the loaded project.
    from_state: str | None = None
    # Why a requested plan from state was refused before falling back to loading the project (nothing had changed).
    state_fallback: str | None = None


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
class ServingCandidate(Record):
    """One candidate of ``serving``: a digest and a pin environment holding that digest's verified snapshot set."""

    sha256: str
    pin: str
    status: str  # "match" | "differs" | "no pin" (the pin environment is not in state, expired or not finalized)
    differing: list[str]  # models whose snapshot (fingerprint/version) differs, added or missing; first 20


@dataclasses.dataclass(frozen=True, kw_only=True)
class WarehouseServingReport(Record):
    """What a SQLMesh environment really serves, read from SQLMesh state without loading the project.

    ``serving``: the digest of the first candidate whose pin holds exactly the env's snapshot set (same model names,
    same fingerprints and versions); ``"unknown"`` when none does (or the env is not finalized: a plan into it did not
    complete); ``"absent"`` when the env does not exist in state."""

    command: str = "serving"
    ok: bool = True
    environment: str
    exists: bool
    finalized: bool
    snapshots: int
    serving: str
    candidates: list[ServingCandidate]
    timings: dict[str, float]


@dataclasses.dataclass(frozen=True, kw_only=True)
class WarehouseJanitorReport(Record):
    command: str = "janitor"
    ok: bool
    ignore_ttl: bool


@dataclasses.dataclass(frozen=True, kw_only=True)
class DqModelResult(Record):
    """One model compared with prod: why it was compared, the verdict, and northstar_dq's evidence (thresholds,
    checks, row counts, added/removed/changed, null rates, sample rows with PII masked)."""

    model: str
    why: str  # "changed" | "downstream of <model>"
    status: str  # "pass" | "blocked" | "acknowledged" | "new" (no prod table: first release of it)
    summary: str
    prod_relation: str | None
    candidate_relation: str
    key: list[str]
    verdict: dict[str, Any] | None = None


@dataclasses.dataclass(frozen=True, kw_only=True)
class WarehouseDqReport(Record):
    """``dq --env ENV [--ack MODEL[:CHECK] ...]``: write-audit-publish. The project is planned and applied into the
    SQLMesh environment ``candidate_environment`` (the env's staging branch; nothing the env serves changes), and
    each changed model and its direct downstream is diffed against prod with ``northstar_dq``."""

    command: str = "dq"
    ok: bool
    environment: str
    candidate_environment: str
    baseline_environment: str
    baseline_exists: bool
    models: list[DqModelResult]
    blocked: list[str]
    acknowledged: list[str]
    plan: WarehousePlanReport | None = None
    timings: dict[str, float] = dataclasses.field(default_factory=dict)
    error: str | None = None


@dataclasses.dataclass(frozen=True, kw_only=True)
class BronzeFreshness(Record):
    """One bronze table feeding a changed model: when it last arrived, and the SLA it must meet."""

    table: str
    pipeline: str | None  # the catalog pipeline whose sink it is (None: no pipeline declares it)
    sla: str  # e.g. "schedule 5 * * * * (every 60 min) + batch 20 min"
    max_age_s: float | None
    loaded_at: str | None  # latest recorded arrival (ISO-8601, UTC)
    age_s: float | None
    rows: int | None
    status: str  # "fresh" | "stale" | "never_loaded" | "no_sla"
    feeds: list[str]  # changed models downstream of it


@dataclasses.dataclass(frozen=True, kw_only=True)
class WarehouseFreshnessReport(Record):
    """``freshness --env ENV --catalog DIR``: bronze tables upstream of the models the project changes in ENV."""

    command: str = "freshness"
    ok: bool
    environment: str
    checked_at: str
    changed_models: list[str]
    tables: list[BronzeFreshness]
    stale: list[str]
    timings: dict[str, float] = dataclasses.field(default_factory=dict)
    error: str | None = None


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
    "serving": WarehouseServingReport,
    "dq": WarehouseDqReport,
    "freshness": WarehouseFreshnessReport,
}
"""Subcommand -> the record it prints on success or on a reported problem (else an ``ErrorRecord``)."""


def parse_warehouse(payload: dict[str, Any]) -> Record:
    """The record for a warehouse payload, chosen by its ``command`` field (an ``ErrorRecord`` if it is one)."""
    from northstar_contracts.base import parse_result

    record = RECORDS.get(str(payload.get("command")))
    if record is None and payload.get("command") == "contracts":  # its own module (it imports this one)
        from northstar_contracts.warehouse_contract import WarehouseContractReport

        record = WarehouseContractReport
    if record is None and "kind" not in payload:
        from northstar_contracts.base import ContractError

        raise ContractError(f"warehouse payload has unknown command {payload.get('command')!r}")
    return parse_result(record or WarehousePlanReport, payload)
