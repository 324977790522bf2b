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
