"""Post-deploy regression watch with automatic rollback (``./release health watch --env prod``).

Why a command run on a schedule (cron, the CI's scheduled job) and not a daemon: each run is a pure function of the
audit chain and Airflow's metadata DB, so it can be re-run at any time, and it is idempotent -- a regression already
recorded for a deployment is not recorded twice, a deployment already rolled back is not rolled back again, and the
webhook alert is de-duplicated per key (northstar_health.alerts).

One run: take the env's newest deploy/promote deployment; compare the runs of the DAGs its release ships after its
``<action>.succeeded`` entry with the baseline before it (``northstar_health.regression`` and ``.data_regression``,
the methods are stated there: failure rate, duration, freshness gap, and the row volume / data-quality metrics the
runs report for the warehouse models the release changed, per its ``data_quality`` gate evidence); append every new
regression as ``health.regression`` to the audit chain in ONE transaction (the change failure rate in
``northstar_health.dora`` reads it); when the env's ``health.auto_rollback`` says so, roll the env back to its last
known-good release through the ordinary rollback path (plan_rollback + evaluator: known-good check, switch, verify,
audit), with the regression as the recorded reason; append ``health.rollback`` with the
detection-to-rollback time (``rollback.succeeded.at - health.regression.at``); then alert the webhook.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from northstar_health.alerts import Alert, WebhookAlerter
from northstar_health.dora import REGRESSION_ACTION
from northstar_health.regression import RegressionVerdict, detect_regressions
from northstar_health.runs import HealthInputError, read_airflow_runs
from northstar_health.sources import parse_duration
from northstar_release.errors import UsageError
from northstar_release.health_sources import airflow_db_path, changed_models, state_dir_of, touched_dags
from northstar_release.model import AuditEntry, Deployment, DeploymentStatus, Environment, HealthPolicy, ReleaseAction
from northstar_release.recovery import Runtime

ROLLBACK_ACTION = "health.rollback"
"""Audit action closing an automatic rollback: which regression entries caused it and detection-to-rollback time."""


@dataclass
class WatchReport:
    """What one watch run saw and did (the ``--json`` document)."""

    env: str
    status: str  # nothing_deployed | already_rolled_back | ok | regressed | rolled_back | rollback_failed
    deployment_id: int | None = None
    release_id: str | None = None
    deployed_at: datetime | None = None
    watch_ends_at: datetime | None = None
    watch_open: bool = False  # the wall clock is still inside the watch window: keep running the scheduled watch
    airflow_db: str | None = None
    dags: list[str] = field(default_factory=list)
    models: list[str] | None = None  # changed warehouse models whose data metrics are judged (None: all reported)
    verdicts: list[RegressionVerdict] = field(default_factory=list)
    recorded_seqs: list[int] = field(default_factory=list)
    rollback: dict[str, Any] | None = None
    alerts: list[dict[str, Any]] = field(default_factory=list)

    @property
    def regressions(self) -> list[RegressionVerdict]:
        return [v for v in self.verdicts if v.regressed]

    def to_json(self) -> dict[str, Any]:
        return {"ok": not self.regressions and self.status != "rollback_failed", "env": self.env,
                "status": self.status, "deployment_id": self.deployment_id, "release_id": self.release_id,
                "deployed_at": self.deployed_at, "watch_ends_at": self.watch_ends_at, "watch_open": self.watch_open,
                "airflow_db": self.airflow_db, "dags": self.dags, "models": self.models,
                "verdicts": [v.model_dump(mode="json") for v in self.verdicts],
                "regressions": [v.model_dump(mode="json") for v in self.regressions],
                "recorded_audit_seqs": self.recorded_seqs, "rollback": self.rollback, "alerts": self.alerts}


def watched_deployment(rt: Runtime, env: str) -> Deployment | None:
    """The env's newest deploy/promote that switched it (succeeded, or later rolled back)."""
    for dep in rt.store.deployments(env=env):  # newest first
        if dep.action != ReleaseAction.ROLLBACK and dep.status in (DeploymentStatus.SUCCEEDED,
                                                                  DeploymentStatus.ROLLED_BACK):
            return dep
    return None


def _entries_for(entries: list[AuditEntry], action: str, dep_id: int) -> list[AuditEntry]:
    return [e for e in entries if e.action == action and e.payload.get("deployment_id") == dep_id]


def _policy(env: Environment) -> HealthPolicy:
    if env.health is None:
        raise UsageError(f"{env.name} declares no health policy",
                         [f"add `health: {{watch: 2d, auto_rollback: true}}` to environments.{env.name} in "
                          "pipelines/environments.yaml (rule: the watch needs the env's policy)"])
    return env.health


def watch(rt: Runtime, env: Environment, *, actor: str, identity_note: str, state_dir: Path | None,
          airflow_db: Path | None = None, dags: list[str] | None = None, webhook: str | None = None,
          alert_state: Path | None = None) -> WatchReport:
    """Run the watch once for ``env`` (see the module docstring). Bad input raises UsageError (exit 2)."""
    policy = _policy(env)
    try:
        watch_for, baseline = parse_duration(policy.watch, "health.watch"), parse_duration(policy.baseline,
                                                                                            "health.baseline")
    except HealthInputError as exc:
        raise UsageError(f"environments.{env.name}.health: {exc}") from exc
    report = WatchReport(env=env.name, status="nothing_deployed")
    dep = watched_deployment(rt, env.name)
    if dep is None or dep.id is None:
        return report
    report.deployment_id, report.release_id = dep.id, dep.release_id
    if dep.status == DeploymentStatus.ROLLED_BACK:
        report.status = "already_rolled_back"
        return report
    entries = rt.store.audit_entries()
    succeeded = _entries_for(entries, f"{dep.action.value}.succeeded", dep.id)
    report.deployed_at = succeeded[-1].at if succeeded else (dep.finished_at or dep.started_at)
    report.watch_ends_at = report.deployed_at + watch_for
    report.watch_open = rt.wall() < report.watch_ends_at
    db = airflow_db or airflow_db_path(env, state_dir if state_dir is not None else state_dir_of(rt.store))
    if db is None:
        raise UsageError(f"environments.{env.name}.health.airflow_db: must be an absolute path with a non-SQLite "
                         "state store (rule: the watch reads the env's Airflow metadata DB)")
    report.airflow_db = str(db)
    try:
        runs = read_airflow_runs(db)
    except HealthInputError as exc:
        raise UsageError(str(exc), ["point environments.<env>.health.airflow_db (or --airflow-db) at the env's "
                                    "Airflow metadata DB"]) from exc
    report.dags = dags or touched_dags(rt.store, dep.release_id) or sorted({r.pipeline for r in runs})
    report.models = changed_models(rt.store, dep.release_id)
    report.verdicts = detect_regressions(runs, report.deployed_at, report.dags, baseline=baseline, watch=watch_for,
                                         models=report.models)
    if not report.regressions:
        report.status = "ok"
        return report
    report.status = "regressed"
    detections = _record(rt, env.name, dep, report, entries, actor)
    if policy.auto_rollback:
        report.rollback = _rollback(rt, env, dep, report, detections, actor, identity_note)
        report.status = "rolled_back" if report.rollback.get("status") == "succeeded" else "rollback_failed"
    if webhook:
        report.alerts = _alert(env.name, dep, report, webhook,
                               alert_state or (state_dir or Path(".release-state")) / "alerts.json")
    return report


def _record(rt: Runtime, env: str, dep: Deployment, report: WatchReport, entries: list[AuditEntry],
            actor: str) -> list[AuditEntry]:
    """Append the regressions not yet recorded for this deployment (one transaction); return all its entries."""
    assert dep.id is not None
    earlier = _entries_for(entries, REGRESSION_ACTION, dep.id)
    known = {(e.payload.get("pipeline"), e.payload.get("metric")) for e in earlier}  # data metrics name the model
    new = [v for v in report.regressions if (v.pipeline, v.metric) not in known]
    if not new:
        return earlier
    detected_at = rt.wall()
    added: list[AuditEntry] = []
    with rt.store.transaction() as tx:
        for v in new:
            added.append(tx.append_audit(actor, REGRESSION_ACTION, dep.release_id, env, {
                "deployment_id": dep.id, **v.model_dump(mode="json"), "detected_at": detected_at.isoformat(),
                "deployed_at": report.deployed_at.isoformat() if report.deployed_at else None}))
    report.recorded_seqs = [e.seq for e in added]
    return earlier + added


def _rollback(rt: Runtime, env: Environment, dep: Deployment, report: WatchReport, detections: list[AuditEntry],
              actor: str, identity_note: str) -> dict[str, Any]:
    """The ordinary rollback path to the last known-good release; returns its result plus the timing."""
    from northstar_release.errors import ReleaseError
    from northstar_release.evaluator import apply
    from northstar_release.plan import plan_rollback
    from northstar_release.recovery import actual_live

    first = report.regressions[0]
    reason = f"regression: {first.pipeline} {first.metric} {first.detail} (health watch, deployment #{dep.id})"
    try:
        plan = plan_rollback(env, None, actor, rt.store, rt.environments, rt.now(), reason=reason,
                             actual=actual_live(rt, env.name))
        plan = plan.model_copy(update={"notes": (*plan.notes, identity_note)})
        release = rt.store.get_release(plan.release_id)
        if release is None:
            raise UsageError(f"release {plan.release_id} missing from state")
        result = apply(plan, release, rt, wait=True, reason=reason)
    except ReleaseError as exc:
        return {"status": "blocked", "error": exc.message, "reasons": exc.reasons}
    out: dict[str, Any] = {**result.to_json(), "reason": reason}
    if result.status.value != "succeeded" or result.deployment_id is None:
        return out
    done = _entries_for(rt.store.audit_entries(), "rollback.succeeded", result.deployment_id)
    detected_at = min(e.at for e in detections)
    rolled_back_at = done[-1].at if done else rt.wall()
    timing = {"detected_at": detected_at.isoformat(), "rolled_back_at": rolled_back_at.isoformat(),
              "detection_to_rollback_s": round((rolled_back_at - detected_at).total_seconds(), 3)}
    with rt.store.transaction() as tx:
        entry = tx.append_audit(actor, ROLLBACK_ACTION, dep.release_id, env.name, {
            "deployment_id": dep.id, "rollback_deployment_id": result.deployment_id,
            "rolled_back_to": result.release_id, "regression_seqs": [e.seq for e in detections], **timing})
    return {**out, **timing, "audit_seq": entry.seq}


def _alert(env: str, dep: Deployment, report: WatchReport, webhook: str, state: Path) -> list[dict[str, Any]]:
    """One Slack-compatible alert per regressed metric, de-duplicated per (env, pipeline, metric) for an hour."""
    alerter = WebhookAlerter(webhook, state, window=timedelta(hours=1))
    rollback = report.rollback or {}
    done = (f"rolled back to {rollback.get('release_id')} in {rollback.get('detection_to_rollback_s')} s"
            if report.status == "rolled_back" else
            "NOT rolled back: " + "; ".join(rollback.get("reasons") or [str(rollback.get("error", "policy: "
                                                                                          "auto_rollback is off"))]))
    now = datetime.now(UTC)
    sent: list[dict[str, Any]] = []
    for v in report.regressions:
        alert = Alert(key=f"regression:{env}:{v.pipeline}:{v.metric}", severity="critical",
                      title=f"Regression in {v.pipeline} after {dep.release_id} reached {env}",
                      text=f"{v.detail}; {done}",
                      fields=(("metric", v.metric), ("baseline", str(v.baseline)), ("observed", str(v.observed)),
                              ("deployment", f"#{dep.id}")))
        try:
            sent.append({"key": alert.key, "sent": alerter.send(alert, now)})
        except OSError as exc:  # URLError/HTTPError/timeout: not recorded as sent, so the next run retries
            sent.append({"key": alert.key, "sent": False, "error": f"{type(exc).__name__}: {exc}"})
    return sent
