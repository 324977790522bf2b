"""``freshness``: the bronze tables a release's changed models read must have arrived within their SLA.

Why before promotion: a model promoted on top of a bronze table whose ingestion stopped would publish stale numbers
as if they were current. Which tables: every bronze table upstream (transitively) of a model whose snapshot differs
between the project and the SQLMesh environment ``ENV`` (all of them when ENV does not exist yet). The SLA comes from
the pipeline catalog (``pipelines/catalog/pipelines/*.yaml``): the ingest pipeline whose ``sink`` is the table. A
batch pipeline must have delivered within one schedule interval (the longest gap between two cron fire times) plus
its ``sla.batch_minutes``; a streaming one within ``sla.freshness_seconds``. Arrival times: ``northstar_dbt.arrivals``
(newest ``_ingested_at`` or logged load). Time is the wall clock: freshness is a fact about now, not a policy drill.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml  # type: ignore[import-untyped]  # pants: no-infer-dep (installed by dbt-core, see dbt/BUILD)

from northstar_contracts.harness import Outcome, UsageError
from northstar_contracts.warehouse import BronzeFreshness, WarehouseFreshnessReport
from northstar_dbt.arrivals import latest_arrivals
from northstar_dbt.warehouse.engine import session, short_name
from northstar_dbt.warehouse.options import WarehouseOptions

BRONZE = "bronze"
INGEST_KINDS = ("batch_ingest", "streaming_ingest")


def load_slas(catalog: Path) -> dict[str, tuple[str, str, float]]:
    """bronze table -> (pipeline id, SLA description, max age in seconds) from the catalog's ingest pipelines."""
    folder = catalog / "pipelines"
    if not folder.is_dir():
        raise UsageError(f"{folder}: no pipeline catalog folder (expected pipelines/catalog/pipelines/*.yaml)")
    out: dict[str, tuple[str, str, float]] = {}
    for path in sorted(folder.glob("*.yaml")):
        try:
            doc = yaml.safe_load(path.read_text()) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise UsageError(f"{path}: cannot read YAML ({type(exc).__name__})") from exc
        for p in doc.get("pipelines", []) or []:
            if not isinstance(p, dict) or p.get("kind") not in INGEST_KINDS:
                continue
            sink = str(p.get("sink", ""))
            if not sink.startswith(BRONZE + "."):
                continue
            out[sink.split(".", 1)[1]] = _sla(path, p)
    return out


def _sla(path: Path, p: dict[str, Any]) -> tuple[str, str, float]:
    sla = p.get("sla") or {}
    where = f"{path} (pipeline {p.get('id')})"
    if "freshness_seconds" in sla:
        seconds = float(sla["freshness_seconds"])
        return str(p.get("id")), f"streaming: within {seconds:g} s", seconds
    if "batch_minutes" not in sla or not p.get("schedule"):
        raise UsageError(f"{where}: an ingest pipeline needs sla.batch_minutes and a schedule, or "
                         "sla.freshness_seconds")
    interval = schedule_interval_s(str(p["schedule"]), where)
    batch = float(sla["batch_minutes"]) * 60
    return (str(p.get("id")), f"schedule {p['schedule']} (every {interval / 60:g} min) + batch "
                              f"{batch / 60:g} min", interval + batch)


def schedule_interval_s(cron: str, where: str) -> float:
    """The longest gap between consecutive fire times of ``cron`` over one week (irregular schedules included)."""
    from croniter import croniter  # type: ignore[import-untyped]  # pants: no-infer-dep (installed by sqlmesh)

    if not croniter.is_valid(cron):
        raise UsageError(f"{where}: schedule {cron!r} is not a valid cron expression")
    it = croniter(cron, datetime(2024, 1, 1, tzinfo=UTC))
    fires = [it.get_next(datetime) for _ in range(2)]
    while fires[-1] - fires[0] < timedelta(days=7) and len(fires) < 20000:
        fires.append(it.get_next(datetime))
    return max((b - a).total_seconds() for a, b in zip(fires, fires[1:], strict=False))


def changed_models(snapshots: dict[str, Any], context: Any, env: str) -> list[str]:
    """Model names whose snapshot in the project differs from ``env``'s (every model when ``env`` does not exist)."""
    from sqlmesh.core.environment import Environment

    environment = context.state_reader.get_environment(Environment.sanitize_name(env))
    live = {s.name: s.fingerprint for s in environment.snapshots} if environment is not None else {}
    return sorted(name for name, s in snapshots.items() if s.is_model and live.get(name) != s.fingerprint)


def bronze_upstream(snapshots: dict[str, Any], models: list[str]) -> dict[str, list[str]]:
    """bronze table -> changed models that read it (directly or through other models). One memoized walk up the
    lineage (``Context.snapshots`` and ``Context.dag`` are rebuilt on every access: read once by the caller)."""
    memo: dict[str, frozenset[str]] = {}

    def bronze_of(name: str, seen: frozenset[str] = frozenset()) -> frozenset[str]:
        if name in memo:
            return memo[name]
        model = getattr(snapshots.get(name), "model", None)
        found: set[str] = set()
        for dep in getattr(model, "depends_on", ()) or ():
            parts = [x.strip('"') for x in dep.split(".")]
            if len(parts) >= 2 and parts[-2] == BRONZE:
                found.add(parts[-1])
            elif dep in snapshots and dep not in seen:
                found |= bronze_of(dep, seen | {name})
        memo[name] = frozenset(found)
        return memo[name]

    out: dict[str, set[str]] = {}
    for name in models:
        for table in bronze_of(name):
            out.setdefault(table, set()).add(short_name(name))
    return {t: sorted(m) for t, m in sorted(out.items())}


def judge(table: str, feeds: list[str], sla: tuple[str, str, float] | None, arrival: tuple[datetime | None, int | None],
          now: datetime) -> BronzeFreshness:
    loaded_at, rows = arrival
    age = round((now - loaded_at).total_seconds(), 1) if loaded_at is not None else None
    if sla is None:
        status = "no_sla"
    elif loaded_at is None:
        status = "never_loaded"
    else:
        status = "fresh" if age is not None and age <= sla[2] else "stale"
    return BronzeFreshness(table=f"{BRONZE}.{table}", pipeline=sla[0] if sla else None,
                           sla=sla[1] if sla else "no ingest pipeline in the catalog declares this sink",
                           max_age_s=sla[2] if sla else None,
                           loaded_at=loaded_at.isoformat() if loaded_at is not None else None, age_s=age, rows=rows,
                           status=status, feeds=feeds)


def cmd_freshness(opts: WarehouseOptions) -> Outcome:
    if opts.catalog is None:
        raise UsageError("freshness needs --catalog")
    slas = load_slas(opts.catalog)
    env = opts.environment
    timings: dict[str, float] = {}
    with session(opts, timings) as context:
        t0 = time.monotonic()
        snapshots = dict(context.snapshots)
        models = changed_models(snapshots, context, env)
        upstream = bronze_upstream(snapshots, models)
        arrivals = latest_arrivals(context.engine_adapter.connection, list(upstream))
        now = datetime.now(UTC)
        tables = [judge(t, feeds, slas.get(t), arrivals[t], now) for t, feeds in upstream.items()]
        timings["check_s"] = round(time.monotonic() - t0, 3)
    stale = [t.table for t in tables if t.status in ("stale", "never_loaded")]
    return Outcome.of(WarehouseFreshnessReport(
        ok=not stale, environment=env, checked_at=now.isoformat(), changed_models=[short_name(m) for m in models],
        tables=tables, stale=stale, timings=timings))
