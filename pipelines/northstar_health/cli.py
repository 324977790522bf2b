"""``python -m northstar_health deployments|pipelines|regressions|dashboard|metrics`` (later: ``./release health``).

Exit codes: 0 ok; 1 a finding (``regressions`` found one); 2 bad input (the message names the file/option and rule).
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import click

from northstar_health import dashboard, metrics, report
from northstar_health.alerts import Alert, WebhookAlerter
from northstar_health.regression import detect_regressions
from northstar_health.runs import HealthInputError, read_airflow_runs
from northstar_health.slo import load_slos, pipeline_health
from northstar_health.sources import load_release_history, parse_duration, parse_instant, parse_since

F = TypeVar("F", bound=Callable[..., Any])


def _state_options(f: F) -> F:
    f = click.option("--state-dir", type=click.Path(path_type=Path), envvar="NORTHSTAR_STATE_DIR",
                     default=Path(".release-state"), show_default=True, help="Release state (state.db).")(f)
    f = click.option("--state-url", envvar="NORTHSTAR_STATE_URL", default=None,
                     help="sqlite:///abs/path.db or postgresql://... (overrides --state-dir).")(f)
    f = click.option("--since", default="30d", show_default=True, help="Window start: 30d, 12h, 90m or ISO time.")(f)
    return f


def _pipeline_options(f: F) -> F:
    f = click.option("--airflow-db", type=click.Path(path_type=Path), required=True,
                     help="Airflow metadata DB (SQLite), opened read-only.")(f)
    f = click.option("--catalog", type=click.Path(path_type=Path), default=Path("pipelines/catalog/pipelines"),
                     show_default=True, help="Catalog folder with the pipelines' SLAs.")(f)
    return f


def _now(now: str | None) -> datetime:
    return parse_instant(now, "--now") if now else datetime.now(UTC)


def _emit(data: Any, as_json: bool, lines: list[str]) -> None:
    if as_json:
        click.echo(json.dumps(data, indent=2, sort_keys=True, default=str))
    else:
        click.echo("\n".join(lines))


def _fmt(value: float | None, scale: float = 1.0, unit: str = "", digits: int = 2) -> str:
    return "n/a" if value is None else f"{value * scale:.{digits}f}{unit}"


@click.group(help="Deployment (DORA) and pipeline (SLO) health, regressions, metrics and a dashboard.")
@click.option("--now", default=None, help="Evaluate as of this ISO time (default: the wall clock).")
@click.pass_context
def main(ctx: click.Context, now: str | None) -> None:
    ctx.obj = now


@main.command(help="DORA keys, gate failure rates and stage durations per environment from the audit chain.")
@_state_options
@click.option("--env", default=None, help="Only this environment.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def deployments(now_text: str | None, state_dir: Path, state_url: str | None, since: str, env: str | None,
                as_json: bool) -> None:
    now = _now(now_text)
    history = load_release_history(state_dir, state_url)
    _, dora, stages = report.deployment_health(history, parse_since(since, now), now, env)
    lines = [f"{e}: {d.deployments} deployments ({_fmt(d.deployment_frequency_per_day)}/day), lead time median "
             f"{_fmt(d.lead_time_median_s, 1 / 3600, ' h')}, change failure rate {_fmt(d.change_failure_rate, 100, ' %', 1)} "
             f"({d.failed_changes}/{d.changes}), recovery median {_fmt(d.recovery_median_s, 1 / 60, ' min', 1)}, "
             f"{d.blocked} blocked" for e, d in dora.items()]
    _emit(report.to_json(dora, stages), as_json, lines or ["no deployments recorded"])


@main.command(help="Per DAG: success rate, monthly 99.9 % error budget, batch SLA and freshness vs the catalog.")
@_pipeline_options
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def pipelines(now_text: str | None, airflow_db: Path, catalog: Path, as_json: bool) -> None:
    health = pipeline_health(read_airflow_runs(airflow_db), load_slos(catalog), _now(now_text))
    lines = [f"{p.dag_id}: {p.month_runs - p.month_failed}/{p.month_runs} ok, budget left "
             f"{_fmt(p.error_budget_remaining, 100, ' %', 0)}{' EXHAUSTED' if p.budget_exhausted else ''}, "
             f"p50 {_fmt(p.duration_p50_s, unit=' s', digits=1)} (SLA {_fmt(p.batch_sla_s, unit=' s', digits=0)}, "
             f"{p.sla_misses} over), freshness {_fmt(p.freshness_s, unit=' s', digits=0)}" for p in health]
    _emit(report.to_json(pipelines=health), as_json, lines)


@main.command(help="Compare runs after a deployment with the baseline before it; exit 1 when a regression is found.")
@click.option("--airflow-db", type=click.Path(path_type=Path), required=True)
@click.option("--deployed-at", required=True, help="ISO time the deployment went live.")
@click.option("--dag", "dags", multiple=True, help="Pipelines (DAG ids) the deployment touched (default: all).")
@click.option("--baseline", default="14d", show_default=True)
@click.option("--watch", default="2d", show_default=True)
@click.option("--webhook", default=None, envvar="NORTHSTAR_ALERT_WEBHOOK", help="Alert regressions to this webhook.")
@click.option("--alert-state", type=click.Path(path_type=Path), default=Path(".release-state/alerts.json"),
              show_default=True, help="De-duplication state for alerts.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def regressions(now_text: str | None, airflow_db: Path, deployed_at: str, dags: tuple[str, ...], baseline: str,
                watch: str, webhook: str | None, alert_state: Path, as_json: bool) -> None:
    verdicts = detect_regressions(read_airflow_runs(airflow_db), parse_instant(deployed_at, "--deployed-at"),
                                  list(dags) or None, baseline=parse_duration(baseline, "--baseline"),
                                  watch=parse_duration(watch, "--watch"))
    found = [v for v in verdicts if v.regressed]
    if webhook:
        alerter = WebhookAlerter(webhook, alert_state, window=timedelta(hours=1))
        for v in found:
            alerter.send(Alert(key=f"regression:{v.pipeline}:{v.metric}", severity="critical",
                               title=f"Regression in {v.pipeline} after deploy", text=v.detail,
                               fields=(("metric", v.metric), ("baseline", str(v.baseline)), ("observed", str(v.observed)))),
                         _now(now_text))
    _emit([v.model_dump(mode="json") for v in verdicts], as_json,
          [f"{'REGRESSION' if v.regressed else 'ok'} {v.pipeline} {v.metric}: {v.detail}" for v in verdicts])
    if found:
        sys.exit(1)


def _collect(now: datetime, state_dir: Path, state_url: str | None, since: str, airflow_db: Path, catalog: Path
             ) -> tuple[dict[str, Any], Any, Any, Any, Any, Any]:
    history = load_release_history(state_dir, state_url)
    attempts, dora, stages = report.deployment_health(history, parse_since(since, now), now)
    runs = read_airflow_runs(airflow_db)
    health = pipeline_health(runs, load_slos(catalog), now)
    return report.to_json(dora, stages, health), attempts, dora, stages, health, runs


@main.command(name="dashboard", help="Write the self-contained HTML dashboard and print its path.")
@_state_options
@_pipeline_options
@click.option("--out", type=click.Path(path_type=Path), default=Path("dist/health/dashboard.html"), show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Also print the report embedded in the page.")
@click.pass_obj
def dashboard_cmd(now_text: str | None, state_dir: Path, state_url: str | None, since: str, airflow_db: Path,
                  catalog: Path, out: Path, as_json: bool) -> None:
    now = _now(now_text)
    data, attempts, _, _, health, runs = _collect(now, state_dir, state_url, since, airflow_db, catalog)
    path = dashboard.render(data, attempts, health, runs, now, out)
    _emit({"dashboard": str(path.absolute()), **data}, as_json, [str(path.absolute())])


@main.command(name="metrics", help="Prometheus metrics: write a textfile and/or serve them on 127.0.0.1:PORT.")
@_state_options
@_pipeline_options
@click.option("--textfile", type=click.Path(path_type=Path), default=None, help="node-exporter textfile (.prom).")
@click.option("--serve", "port", type=int, default=None, help="Serve on 127.0.0.1:PORT (0 = any free port).")
@click.option("--serve-seconds", type=float, default=None, help="Stop serving after this long (default: until killed).")
@click.pass_obj
def metrics_cmd(now_text: str | None, state_dir: Path, state_url: str | None, since: str, airflow_db: Path,
                catalog: Path, textfile: Path | None, port: int | None, serve_seconds: float | None) -> None:
    now = _now(now_text)
    _, _, dora, stages, health, _ = _collect(now, state_dir, state_url, since, airflow_db, catalog)
    registry = metrics.build_registry(dora, health, stages)
    if textfile is None and port is None:
        from prometheus_client import generate_latest

        click.echo(generate_latest(registry).decode(), nl=False)
        return
    if textfile is not None:
        metrics.write_textfile(registry, textfile)
        click.echo(f"wrote {textfile}")
    if port is not None:
        server, _thread = metrics.serve(registry, port)
        click.echo(f"serving http://127.0.0.1:{server.server_address[1]}/metrics")
        sys.stdout.flush()
        try:
            time.sleep(serve_seconds if serve_seconds is not None else 10**9)
        except KeyboardInterrupt:
            pass
        finally:
            server.shutdown()
            server.server_close()



def run() -> None:
    """Entry point: bad input -> exit 2 with the file and rule named, nothing changed."""
    try:
        main(standalone_mode=True)
    except HealthInputError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
