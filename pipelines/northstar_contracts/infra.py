"""Records of the infra entry points: ``infra_check`` (``northstar_infra.check``) and ``northstar_infra.deploy``."""

from __future__ import annotations

import dataclasses

from northstar_contracts.base import Record

CHECK_ENTRY_POINT = "infra_check"
DEPLOY_ENTRY_POINT = "infra_deploy"


@dataclasses.dataclass(frozen=True, kw_only=True)
class InfraResource(Record):
    urn: str
    type: str
    name: str


@dataclasses.dataclass(frozen=True, kw_only=True)
class InfraViolation(Record):
    """A broken policy rule; ``resource`` is the URN (None for stack-level findings such as a program error)."""

    resource: str | None
    policy: str
    message: str


@dataclasses.dataclass(frozen=True, kw_only=True)
class InfraCheckReport(Record):
    """``check --stack ENV --config FILE``: the program run under Pulumi mocks, judged by the policy rules.

    Exit 0 no violations, 1 violations (a program that refuses the config is the ``program-error`` violation).
    """

    ok: bool
    stack: str
    config: str
    project: str
    program: str
    resources: list[InfraResource]
    violations: list[InfraViolation]


@dataclasses.dataclass(frozen=True, kw_only=True)
class InfraDeployReport(Record):
    """``deploy --stack ENV --version-map FILE [--dry-run]``: the pulumi commands planned or run, and their exit codes.

    Exit 0 deployed / planned, 1 a pulumi command failed, 2 no Pulumi CLI (``executed`` false, ``error`` says so).
    """

    ok: bool
    stack: str
    dry_run: bool
    executed: bool
    commands: list[list[str]] = dataclasses.field(default_factory=list)
    exit_codes: list[int] = dataclasses.field(default_factory=list)
    error: str | None = None


@dataclasses.dataclass(frozen=True, kw_only=True)
class CostLine(Record):
    """One priced item: quantity x unit price (USD) per month. ``resource`` is ``type::name`` or ``stack::<stack>``."""

    resource: str
    item: str
    quantity: float
    unit: str
    unit_price_usd: float
    monthly_usd: float


@dataclasses.dataclass(frozen=True, kw_only=True)
class CostEstimate(Record):
    """Monthly estimate of one stack from the declared resources, its ``northstar:costUsage`` and a price table."""

    stack: str
    monthly_usd: float
    price_table: str
    price_table_sha256: str
    lines: list[CostLine]


@dataclasses.dataclass(frozen=True, kw_only=True)
class ResourceChange(Record):
    """A resource the program would add, change or remove; ``keys`` lists the changed top-level inputs."""

    urn: str
    type: str
    name: str
    keys: list[str] = dataclasses.field(default_factory=list)


@dataclasses.dataclass(frozen=True, kw_only=True)
class InfraPreviewReport(Record):
    """``preview --stack ENV --config FILE --prices FILE [--baseline-state FILE | --baseline-config FILE]``.

    The program under Pulumi mocks with the new config, compared with the last deployed stack state (resources and
    inputs, as ``check --state-out`` recorded them) or, without one, with the program run on a baseline config.
    ``baseline`` names what was compared against (``state:<file>``, ``config:<file>`` or ``none``). Exit 0 when the
    program ran, 1 when it refused the config (``error`` says why).
    """

    ok: bool
    stack: str
    baseline: str
    adds: list[ResourceChange]
    changes: list[ResourceChange]
    removes: list[ResourceChange]
    cost: CostEstimate | None
    baseline_cost: CostEstimate | None
    error: str | None = None
