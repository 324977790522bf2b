"""Deployment health (the four DORA keys) from the audit chain.

Why the audit chain: it is the release system's single, tamper-evident record of what happened; the deployment table
can be rewritten without a trace, the chain cannot. Entries come from ``StateStore.audit_entries()`` (shape:
``northstar_release.model.AuditEntry``). The engine appends, per deployment row ``payload.deployment_id``:
``<action>.start`` (action = deploy | promote | rollback), ``<action>.switch`` (one per artifact switched),
then one of ``<action>.succeeded`` (``rolled_back_from`` for rollbacks, ``gate_results``), ``<action>.failed``
(after a switch: verification failed or an error, the env was switched back) or ``<action>.blocked`` (a check or gate
refused; nothing changed), or ``deploy.abandoned``. The regression watch appends ``health.regression``.

Definitions (per environment, attempts whose ``.start`` falls in the window):
- deployments: ``deploy``/``promote`` attempts that succeeded; frequency = deployments / window days.
- lead time: ``.succeeded`` time minus the release's commit time (``Release.created_at``; the ``release.build`` entry
  time when the release record is not given). Median and mean over deployments.
- change failure rate: failed changes / changes, where a change is a deploy/promote that switched something (it
  reached the environment: succeeded, or failed after a switch) and a failed change is one that failed after its
  switch (verification), was later rolled back (``rollback.succeeded`` naming it in ``rolled_back_from``) or was
  flagged by a ``health.regression`` entry. Blocked attempts are not changes: the gates worked.
- recovery time: for a verification failure, first switch -> ``.failed`` (the engine switched back); for a rolled-back
  or regressed deployment, its ``.succeeded`` -> the next successful deployment of another release in that env
  (rollback or roll-forward hotfix). Unrecovered failures are counted, not timed.
- gate failure rate: per gate, results with outcome ``failed`` / results, from the ``gate_results`` each attempt
  recorded in the chain.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict

REGRESSION_ACTION = "health.regression"
"""Audit action the regression watch appends (release_id, env, payload = a ``RegressionVerdict`` as JSON)."""

CHANGE_ACTIONS = ("deploy", "promote")
ALL_ACTIONS = ("deploy", "promote", "rollback")


class Attempt(BaseModel):
    """One deployment row as the chain tells it."""

    model_config = ConfigDict(extra="forbid")

    deployment_id: int
    action: str
    release_id: str
    env: str
    started_at: datetime
    finished_at: datetime | None = None
    status: str = "running"  # running | succeeded | failed | blocked | abandoned
    first_switch_at: datetime | None = None
    rolled_back_from: str | None = None
    gate_results: list[dict[str, Any]] = []
    failure: str | None = None  # verification | rolled_back | regression
    recovered_at: datetime | None = None
    lead_time_s: float | None = None

    @property
    def is_change(self) -> bool:
        return self.action in CHANGE_ACTIONS and (self.status == "succeeded" or self.first_switch_at is not None)

    @property
    def recovery_s(self) -> float | None:
        if self.failure is None or self.recovered_at is None:
            return None
        went_bad = self.first_switch_at if self.failure == "verification" else self.finished_at
        assert went_bad is not None
        return (self.recovered_at - went_bad).total_seconds()


class GateRate(BaseModel):
    evaluated: int
    failed: int
    rate: float


class EnvDora(BaseModel):
    """DORA keys and gate statistics for one environment over one window."""

    env: str
    since: datetime
    until: datetime
    window_days: float
    attempts: int
    blocked: int
    deployments: int
    deployment_frequency_per_day: float
    lead_time_median_s: float | None
    lead_time_mean_s: float | None
    changes: int
    failed_changes: int
    change_failure_rate: float | None
    recovered: int
    recovery_median_s: float | None
    recovery_mean_s: float | None
    gate_failure_rates: dict[str, GateRate]
    failed_deployments: list[dict[str, Any]]


def _median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def _mean(values: list[float]) -> float | None:
    return statistics.fmean(values) if values else None


def attempts_from_chain(entries: Iterable[Any], commit_times: Mapping[str, datetime] | None = None) -> list[Attempt]:
    """Rebuild every deployment attempt from audit entries (in seq order) and mark failed changes and recoveries."""
    commit_times = dict(commit_times or {})
    build_times: dict[str, datetime] = {}
    attempts: dict[tuple[str, int], Attempt] = {}
    regressions: list[tuple[datetime, str, str]] = []
    for e in entries:
        action_kind, _, phase = e.action.partition(".")
        if e.action == "release.build" and e.release_id:
            build_times.setdefault(e.release_id, e.at)
            continue
        if e.action == REGRESSION_ACTION and e.release_id and e.env:
            regressions.append((e.at, e.release_id, e.env))
            continue
        dep_id = e.payload.get("deployment_id")
        if not isinstance(dep_id, int) or e.env is None or e.release_id is None:
            continue
        key = (e.env, dep_id)
        if action_kind in ALL_ACTIONS and phase == "start":
            attempts[key] = Attempt(deployment_id=dep_id, action=action_kind, release_id=e.release_id, env=e.env,
                                    started_at=e.at)
            continue
        attempt = attempts.get(key)
        if attempt is None:
            continue
        if e.action == "deploy.abandoned":
            attempt.status, attempt.finished_at = "abandoned", e.at
        elif phase == "switch":
            attempt.first_switch_at = attempt.first_switch_at or e.at
        elif phase in ("succeeded", "failed", "blocked"):
            attempt.status, attempt.finished_at = phase, e.at
            attempt.gate_results = list(e.payload.get("gate_results") or [])
            if phase == "succeeded":
                attempt.rolled_back_from = e.payload.get("rolled_back_from")
            if phase == "failed" and attempt.first_switch_at is not None:
                attempt.failure = "verification"
                attempt.recovered_at = e.at

    ordered = sorted(attempts.values(), key=lambda a: (a.started_at, a.deployment_id))
    for a in ordered:
        if a.action in CHANGE_ACTIONS and a.status == "succeeded" and a.finished_at is not None:
            committed = commit_times.get(a.release_id) or build_times.get(a.release_id)
            if committed is not None:
                a.lead_time_s = (a.finished_at - committed).total_seconds()

    def live_change_before(env: str, release_id: str, at: datetime) -> Attempt | None:
        found = [a for a in ordered if a.env == env and a.release_id == release_id and a.action in CHANGE_ACTIONS
                 and a.status == "succeeded" and a.finished_at is not None and a.finished_at <= at]
        return found[-1] if found else None

    for a in ordered:
        if a.action == "rollback" and a.status == "succeeded" and a.rolled_back_from and a.finished_at:
            bad = live_change_before(a.env, a.rolled_back_from, a.finished_at)
            if bad is not None and bad.failure is None:
                bad.failure = "rolled_back"
    for at, release_id, env in regressions:
        bad = live_change_before(env, release_id, at)
        if bad is not None and bad.failure in (None, "rolled_back"):
            bad.failure = "regression"
    for bad in ordered:
        if bad.failure in ("rolled_back", "regression") and bad.finished_at is not None:
            after = [a for a in ordered if a.env == bad.env and a.status == "succeeded" and a.finished_at is not None
                     and a.finished_at > bad.finished_at and a.release_id != bad.release_id]
            bad.recovered_at = min((a.finished_at for a in after if a.finished_at), default=None)
    return ordered


def env_dora(attempts: list[Attempt], env: str, since: datetime, until: datetime) -> EnvDora:
    """DORA keys for ``env`` over attempts started in ``[since, until)``."""
    inside = [a for a in attempts if a.env == env and since <= a.started_at < until]
    days = (until - since) / timedelta(days=1)
    deployed = [a for a in inside if a.action in CHANGE_ACTIONS and a.status == "succeeded"]
    changes = [a for a in inside if a.is_change]
    failed = [a for a in changes if a.failure is not None]
    recoveries = [r for r in (a.recovery_s for a in failed) if r is not None]
    lead = [a.lead_time_s for a in deployed if a.lead_time_s is not None]
    gates: dict[str, list[int]] = {}
    for a in inside:
        for g in a.gate_results:
            counts = gates.setdefault(str(g.get("gate")), [0, 0])
            counts[0] += 1
            counts[1] += g.get("outcome") == "failed"
    return EnvDora(
        env=env, since=since, until=until, window_days=days, attempts=len(inside),
        blocked=sum(a.status == "blocked" for a in inside), deployments=len(deployed),
        deployment_frequency_per_day=len(deployed) / days if days > 0 else 0.0,
        lead_time_median_s=_median(lead), lead_time_mean_s=_mean(lead),
        changes=len(changes), failed_changes=len(failed),
        change_failure_rate=len(failed) / len(changes) if changes else None,
        recovered=len(recoveries), recovery_median_s=_median(recoveries), recovery_mean_s=_mean(recoveries),
        gate_failure_rates={k: GateRate(evaluated=v[0], failed=v[1], rate=v[1] / v[0]) for k, v in sorted(gates.items())},
        failed_deployments=[{"deployment_id": a.deployment_id, "release_id": a.release_id, "failure": a.failure,
                             "recovery_s": a.recovery_s} for a in failed],
    )


def dora_report(entries: Iterable[Any], since: datetime, until: datetime,
                commit_times: Mapping[str, datetime] | None = None) -> dict[str, EnvDora]:
    """``env -> EnvDora`` for every environment that appears in the chain."""
    attempts = attempts_from_chain(entries, commit_times)
    envs = sorted({a.env for a in attempts})
    return {env: env_dora(attempts, env, since, until) for env in envs}
