"""``./release health deployments / pipelines / regressions / dashboard / metrics / watch`` (issue 12).

Why the report commands forward to ``northstar_health.cli``: that package owns the computations and their output
formats (also runnable alone as ``python -m northstar_health``); this group only supplies what the engine knows --
its own state store (``--state-dir``/``--state-url`` of ``./release``), the catalog's SLOs of the checkout
(``pipelines/catalog/pipelines``) and the env's Airflow metadata DB (``environments.<env>.health.airflow_db``, default
``<state dir>/envs/<env>/airflow/airflow.db``) -- so users never pass paths the engine already has. ``watch`` is the
engine's own: it records in the audit chain and rolls back (northstar_release/health_watch.py).

Time: the figures are about real runs, so they are computed as of the wall clock (``--now`` to evaluate at another
instant), not NORTHSTAR_NOW, which exists to drill freeze windows. Exit codes: 0 ok; 1 a finding (a regression);
2 bad input (unknown env, missing Airflow DB or state, malformed option), with the file/option and rule named.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from northstar_release.cli.app import OUT, App, command, emit, json_option
from northstar_release.errors import UsageError


@click.group("health")
@click.option("--now", default=None, help="Evaluate as of this ISO-8601 time (default: the wall clock).")
@click.pass_context
def health_group(ctx: click.Context, now: str | None) -> None:
    """Deployment health (DORA), pipeline health vs SLOs, regressions, metrics, dashboard; the regression watch."""
    ctx.meta["health_now"] = now


def _now_args() -> list[str]:
    now = click.get_current_context().meta.get("health_now")
    return ["--now", now] if now else []


def _state_args(app: App) -> list[str]:
    args = ["--state-dir", str(app.state_dir)]
    return args + (["--state-url", app.state_url] if app.state_url else [])


def _airflow_db(app: App, env_name: str, override: Path | None) -> Path:
    from northstar_release.health_sources import airflow_db_path

    if override is not None:
        return override
    found = airflow_db_path(app.env(env_name), app.state_dir if not app.state_url else None)
    if found is None:
        raise UsageError(f"environments.{env_name}.health.airflow_db: must be an absolute path when the state is in "
                         "a database server (rule: the engine reads the env's Airflow metadata DB)")
    return found


def _pipeline_args(app: App, env_name: str, override: Path | None) -> list[str]:
    return ["--airflow-db", str(_airflow_db(app, env_name, override)),
            "--catalog", str(app.repo / "pipelines" / "catalog" / "pipelines")]


def _forward(app: App, argv: list[str]) -> None:
    """Run ``northstar_health``'s command in-process; its bad-input errors become exit 2 through ``command``."""
    from northstar_health.cli import main as health_main
    from northstar_health.runs import HealthInputError

    _ = app.environments  # a malformed environments.yaml is refused (exit 2) before anything is read
    try:
        health_main.main(args=argv, prog_name="release health", standalone_mode=False)
    except HealthInputError as exc:
        raise UsageError(str(exc)) from exc
    except click.ClickException as exc:
        raise UsageError(exc.format_message()) from exc


env_option = click.option("--env", "env_name", default="prod", show_default=True,
                          help="Environment whose Airflow metadata DB is read.")
airflow_db_option = click.option("--airflow-db", type=click.Path(path_type=Path, dir_okay=False), default=None,
                                 help="Override the env's Airflow metadata DB (SQLite, opened read-only).")
since_option = click.option("--since", default="30d", show_default=True, help="Window start: 30d, 12h, 90m or ISO.")


@health_group.command("deployments")
@since_option
@click.option("--env", "env_name", default=None, help="Only this environment (default: all).")
@json_option
@click.pass_obj
@command
def deployments_cmd(app: App, since: str, env_name: str | None, as_json: bool) -> None:
    """DORA keys, gate failure rates and stage durations per environment, from the audit chain."""
    if env_name is not None:
        app.env(env_name)
    _forward(app, [*_now_args(), "deployments", *_state_args(app), "--since", since,
                   *(["--env", env_name] if env_name else []), *(["--json"] if as_json else [])])


@health_group.command("pipelines")
@env_option
@airflow_db_option
@json_option
@click.pass_obj
@command
def pipelines_cmd(app: App, env_name: str, airflow_db: Path | None, as_json: bool) -> None:
    """Per DAG: success rate, monthly 99.9 % error budget, batch SLA and freshness vs the catalog's SLOs."""
    _forward(app, [*_now_args(), "pipelines", *_pipeline_args(app, env_name, airflow_db),
                   *(["--json"] if as_json else [])])


@health_group.command("regressions")
@env_option
@airflow_db_option
@click.option("--deployed-at", default=None,
              help="ISO time the deployment went live (default: the env's newest deploy/promote).")
@click.option("--dag", "dags", multiple=True, help="DAG ids to compare (default: the DAGs that release ships).")
@json_option
@click.pass_obj
@command
def regressions_cmd(app: App, env_name: str, airflow_db: Path | None, deployed_at: str | None, dags: tuple[str, ...],
                    as_json: bool) -> None:
    """Compare runs after the deployment with the baseline before it; exit 1 on a regression. Records nothing
    (``health watch`` records, rolls back and alerts)."""
    from northstar_release.health_sources import touched_dags
    from northstar_release.health_watch import watched_deployment

    env = app.env(env_name)
    picked = list(dags)
    if deployed_at is None:
        rt = app.runtime()
        dep = watched_deployment(rt, env.name)
        if dep is None:
            raise UsageError(f"nothing was deployed to {env.name}: pass --deployed-at")
        deployed_at = (dep.finished_at or dep.started_at).isoformat()
        picked = picked or touched_dags(app.store, dep.release_id) or []
    policy = env.health
    windows = ["--baseline", policy.baseline, "--watch", policy.watch] if policy else []
    _forward(app, [*_now_args(), "regressions", "--airflow-db", str(_airflow_db(app, env.name, airflow_db)),
                   "--deployed-at", deployed_at, *windows, *[a for d in picked for a in ("--dag", d)],
                   *(["--json"] if as_json else [])])


@health_group.command("dashboard")
@env_option
@airflow_db_option
@since_option
@click.option("--out", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="HTML file to write (default: <state dir>/health/dashboard.html).")
@json_option
@click.pass_obj
@command
def dashboard_cmd(app: App, env_name: str, airflow_db: Path | None, since: str, out: Path | None,
                  as_json: bool) -> None:
    """Write the self-contained HTML dashboard (DORA tiles, timeline, budget burn, freshness) and print its path."""
    target = out or app.state_dir / "health" / "dashboard.html"
    _forward(app, [*_now_args(), "dashboard", *_state_args(app), "--since", since,
                   *_pipeline_args(app, env_name, airflow_db), "--out", str(target), *(["--json"] if as_json else [])])


@health_group.command("metrics")
@env_option
@airflow_db_option
@since_option
@click.option("--textfile", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Write a node-exporter textfile (.prom).")
@click.option("--serve", "port", type=int, default=None, help="Serve on 127.0.0.1:PORT (0 = any free port).")
@click.option("--serve-seconds", type=float, default=None, help="Stop serving after this long.")
@click.pass_obj
@command
def metrics_cmd(app: App, env_name: str, airflow_db: Path | None, since: str, textfile: Path | None,
                port: int | None, serve_seconds: float | None) -> None:
    """Prometheus metrics (DORA, SLO, stage durations): print, write a textfile and/or serve on localhost."""
    _forward(app, [*_now_args(), "metrics", *_state_args(app), "--since", since,
                   *_pipeline_args(app, env_name, airflow_db),
                   *(["--textfile", str(textfile)] if textfile else []),
                   *(["--serve", str(port)] if port is not None else []),
                   *(["--serve-seconds", str(serve_seconds)] if serve_seconds is not None else [])])


@health_group.command("watch")
@click.option("--env", "env_name", required=True, help="Environment to watch (its `health` policy applies).")
@airflow_db_option
@click.option("--dag", "dags", multiple=True, help="DAG ids to watch (default: the DAGs the release ships).")
@click.option("--webhook", default=None, envvar="NORTHSTAR_ALERT_WEBHOOK",
              help="Alert regressions to this Slack-compatible webhook (de-duplicated per pipeline and metric).")
@json_option
@click.pass_obj
@command
def watch_cmd(app: App, env_name: str, airflow_db: Path | None, dags: tuple[str, ...], webhook: str | None,
              as_json: bool) -> None:
    """Regression watch of ENV's newest deployment: record regressions in the audit chain, roll back to the last
    known-good release when the env's policy says auto_rollback (waiting for the env lock), alert. Exit 1 when a
    regression is found. Idempotent: run it on a schedule until the watch window ends."""
    import json

    from northstar_release.cli.deploy import _checked_identity
    from northstar_release.health_watch import watch

    env = app.env(env_name)
    identity = _checked_identity(app, env)
    rt = app.runtime()
    report = watch(rt, env, actor=app.actor, identity_note="identity: " + json.dumps(identity.to_json(), sort_keys=True),
                   state_dir=None if app.state_url else app.state_dir, airflow_db=airflow_db, dags=list(dags) or None,
                   webhook=webhook, alert_state=app.state_dir / "alerts.json")
    doc = report.to_json()

    def human() -> None:
        OUT.print(f"{report.env}: {report.status}" + (f" (deployment #{report.deployment_id} of {report.release_id}, "
                                                      f"live since {report.deployed_at})" if report.deployment_id
                                                      else ""), highlight=False)
        for v in report.verdicts:
            OUT.print(f"  {'REGRESSION' if v.regressed else 'ok'} {v.pipeline} {v.metric}: {v.detail}",
                      highlight=False)
        if report.rollback:
            rb = report.rollback
            OUT.print(f"  rollback: {rb.get('status')} -> {rb.get('release_id')} "
                      f"(detection to rollback {rb.get('detection_to_rollback_s', 'n/a')} s)", highlight=False)
            for r in rb.get("reasons") or []:
                OUT.print(f"    - {r}", highlight=False)
        for a in report.alerts:
            OUT.print(f"  alert {a['key']}: {'sent' if a['sent'] else a.get('error', 'suppressed (duplicate)')}",
                      highlight=False)

    emit(app, doc, human)
    if report.regressions or report.status == "rollback_failed":
        sys.exit(1)
