"""Prometheus metrics for deployment and pipeline health: one registry, a textfile export and a loopback server.

Why gauges in a fresh registry per report: the figures are recomputed from the audit chain and the run history on
every call (they are windowed aggregates, not counters this process increments), so each export is a consistent
snapshot and nothing from an earlier computation leaks into it. The server binds 127.0.0.1 only: the figures name
releases and pipelines and are meant for a local Prometheus or node-exporter textfile collector, not the network.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry, Gauge, start_http_server, write_to_textfile

from northstar_health.dora import EnvDora
from northstar_health.regression import RegressionVerdict
from northstar_health.slo import PipelineHealth
from northstar_health.stages import StageStats

METRIC_NAMES = (
    "northstar_deployments", "northstar_deployment_frequency_per_day", "northstar_lead_time_seconds",
    "northstar_change_failure_rate", "northstar_recovery_time_seconds", "northstar_gate_failure_rate",
    "northstar_stage_duration_seconds", "northstar_pipeline_success_rate", "northstar_pipeline_error_budget_remaining",
    "northstar_pipeline_duration_seconds", "northstar_pipeline_batch_sla_seconds", "northstar_pipeline_sla_misses",
    "northstar_pipeline_freshness_seconds", "northstar_pipeline_freshness_target_seconds", "northstar_regression",
)


def build_registry(dora: Mapping[str, EnvDora], pipelines: Iterable[PipelineHealth],
                   stages: Mapping[str, Mapping[str, StageStats]] | None = None,
                   verdicts: Iterable[RegressionVerdict] = ()) -> CollectorRegistry:
    """A registry holding the current figures (unknown values, e.g. no deployments yet, are left out, not zero)."""
    reg = CollectorRegistry()

    def gauge(name: str, doc: str, labels: list[str]) -> Gauge:
        assert name in METRIC_NAMES, name
        return Gauge(name, doc, labels, registry=reg)

    deployments = gauge("northstar_deployments", "Successful deploy/promote in the window", ["env"])
    freq = gauge("northstar_deployment_frequency_per_day", "Deployments per day in the window", ["env"])
    lead = gauge("northstar_lead_time_seconds", "Commit to deployment lead time", ["env", "stat"])
    cfr = gauge("northstar_change_failure_rate", "Failed changes / changes", ["env"])
    rec = gauge("northstar_recovery_time_seconds", "Failed-deployment recovery time", ["env", "stat"])
    gate = gauge("northstar_gate_failure_rate", "Failed gate results / results", ["env", "gate"])
    for env, d in dora.items():
        deployments.labels(env).set(d.deployments)
        freq.labels(env).set(d.deployment_frequency_per_day)
        for stat, value in (("median", d.lead_time_median_s), ("mean", d.lead_time_mean_s)):
            if value is not None:
                lead.labels(env, stat).set(value)
        for stat, value in (("median", d.recovery_median_s), ("mean", d.recovery_mean_s)):
            if value is not None:
                rec.labels(env, stat).set(value)
        if d.change_failure_rate is not None:
            cfr.labels(env).set(d.change_failure_rate)
        for name, rate in d.gate_failure_rates.items():
            gate.labels(env, name).set(rate.rate)
    stage = gauge("northstar_stage_duration_seconds", "Deployment stage duration", ["env", "stage", "stat"])
    for env, per_stage in (stages or {}).items():
        for name, s in per_stage.items():
            stage.labels(env, name, "median").set(s.median_s)
            stage.labels(env, name, "max").set(s.max_s)
    success = gauge("northstar_pipeline_success_rate", "Successful runs / finished runs this month", ["pipeline"])
    budget = gauge("northstar_pipeline_error_budget_remaining", "Remaining fraction of the monthly 99.9% budget", ["pipeline"])
    duration = gauge("northstar_pipeline_duration_seconds", "Run duration this month", ["pipeline", "stat"])
    sla = gauge("northstar_pipeline_batch_sla_seconds", "Batch SLA from the catalog", ["pipeline"])
    misses = gauge("northstar_pipeline_sla_misses", "Runs over the batch SLA this month", ["pipeline"])
    fresh = gauge("northstar_pipeline_freshness_seconds", "Seconds since the last successful run ended", ["pipeline"])
    target = gauge("northstar_pipeline_freshness_target_seconds", "Freshness target from the catalog", ["pipeline"])
    for p in pipelines:
        budget.labels(p.dag_id).set(p.error_budget_remaining)
        misses.labels(p.dag_id).set(p.sla_misses)
        optional: list[tuple[Any, float | None]] = [
            (success.labels(p.dag_id), p.success_rate), (duration.labels(p.dag_id, "p50"), p.duration_p50_s),
            (duration.labels(p.dag_id, "max"), p.duration_max_s), (sla.labels(p.dag_id), p.batch_sla_s),
            (fresh.labels(p.dag_id), p.freshness_s), (target.labels(p.dag_id), p.freshness_target_s)]
        for child, value in optional:
            if value is not None:
                child.set(value)
    regression = gauge("northstar_regression", "1 when the post-deploy watch flags a regression", ["pipeline", "metric"])
    for v in verdicts:
        regression.labels(v.pipeline, v.metric).set(1 if v.regressed else 0)
    return reg


def write_textfile(registry: CollectorRegistry, path: Path) -> None:
    """Atomic write (prometheus_client writes a temp file and renames) for node-exporter's textfile collector."""
    path.parent.mkdir(parents=True, exist_ok=True)
    write_to_textfile(str(path), registry)


def serve(registry: CollectorRegistry, port: int) -> tuple[Any, threading.Thread]:
    """Start the exposition server on 127.0.0.1:``port`` (0 = any free port); returns (server, thread).

    Stop it with ``server.shutdown(); server.server_close()``. The bound port is ``server.server_address[1]``.
    """
    server, thread = start_http_server(port, addr="127.0.0.1", registry=registry)
    return server, thread
