"""Prometheus textfile + loopback exposition server, the committed Grafana dashboard, and webhook alerts."""

from __future__ import annotations

import json
import re
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from northstar_health.alerts import Alert, WebhookAlerter
from northstar_health.dora import dora_report
from northstar_health.metrics import METRIC_NAMES, build_registry, serve, write_textfile
from northstar_health.slo import DagSlo, pipeline_health
from northstar_health.tests.history import COMMIT_TIMES, SINCE, UNTIL, scripted_chain
from northstar_health.tests.runs_fixture import hourly

GRAFANA = Path("monitoring/grafana/northstar-health.json")


def _registry() -> Any:
    dora = dora_report(scripted_chain(), SINCE, UNTIL, COMMIT_TIMES)
    runs = hourly("orders_hourly", datetime(2026, 11, 2, tzinfo=UTC), 20, failing={5})
    health = pipeline_health(runs, {"orders_hourly": DagSlo(dag_id="orders_hourly", pipelines=["p"], batch_sla_s=900)},
                             datetime(2026, 11, 3, tzinfo=UTC))
    return build_registry(dora, health)


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for fam in text_string_to_metric_families(text) for s in fam.samples}


def _check(samples: dict[tuple[str, tuple[tuple[str, str], ...]], float]) -> None:
    assert samples[("northstar_change_failure_rate", (("env", "prod"),))] == pytest.approx(0.6)
    assert samples[("northstar_deployments", (("env", "prod"),))] == 4
    assert samples[("northstar_recovery_time_seconds", (("env", "prod"), ("stat", "median")))] == pytest.approx(4200)
    # 1 failure in 20 runs against 0.001 x 20 = 0.02 allowed failures: 1 - 1/0.02 = -49 (overspent).
    assert samples[("northstar_pipeline_error_budget_remaining", (("pipeline", "orders_hourly"),))] == pytest.approx(-49)
    assert samples[("northstar_pipeline_success_rate", (("pipeline", "orders_hourly"),))] == pytest.approx(0.95)


def test_textfile_export(tmp_path: Path) -> None:
    path = tmp_path / "textfile" / "northstar_health.prom"
    write_textfile(_registry(), path)
    _check(_samples(path.read_text()))


def test_exposition_server_on_loopback_is_scraped() -> None:
    server, thread = serve(_registry(), 0)
    try:
        host, port = server.server_address[:2]
        assert host == "127.0.0.1"
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:  # noqa: S310
            _check(_samples(response.read().decode()))
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_grafana_dashboard_uses_exactly_the_exported_metrics() -> None:
    dashboard = json.loads(GRAFANA.read_text())
    exprs = " ".join(t["expr"] for p in dashboard["panels"] for t in p["targets"])
    used = set(re.findall(r"northstar_[a-z_]+", exprs))
    assert used == set(METRIC_NAMES)


class _Hook(BaseHTTPRequestHandler):
    received: list[dict[str, Any]] = []
    fail_next = False

    def do_POST(self) -> None:  # noqa: N802 (http.server API)
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if _Hook.fail_next:
            _Hook.fail_next = False
            self.send_response(500)
            self.end_headers()
            return
        _Hook.received.append(json.loads(body))
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args: Any) -> None:
        return None


@pytest.fixture()
def webhook() -> Iterator[str]:
    _Hook.received = []
    server = HTTPServer(("127.0.0.1", 0), _Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook"
    server.shutdown()
    server.server_close()


def test_webhook_alerts_are_slack_shaped_and_deduplicated(webhook: str, tmp_path: Path) -> None:
    state = tmp_path / "alerts.json"
    now = datetime(2026, 11, 10, 12, tzinfo=UTC)
    alert = Alert(key="regression:orders_hourly:failure_rate", severity="critical", title="Regression in orders_hourly",
                  text="3/15 failed after vs 0/30 before", fields=(("metric", "failure_rate"),))
    assert WebhookAlerter(webhook, state).send(alert, now)
    # A second process (new alerter, same state file) inside the window: suppressed.
    assert not WebhookAlerter(webhook, state).send(alert, now + timedelta(minutes=30))
    other = Alert(key="budget:orders_hourly", severity="warning", title="Error budget exhausted", text="-49 %")
    assert WebhookAlerter(webhook, state).send(other, now + timedelta(minutes=31))
    assert WebhookAlerter(webhook, state).send(alert, now + timedelta(hours=1, minutes=1))
    assert len(_Hook.received) == 3
    first = _Hook.received[0]
    assert first["text"].startswith("[CRITICAL] Regression in orders_hourly")
    assert first["blocks"][0]["type"] == "header" and first["blocks"][2]["fields"][0]["text"] == "*metric*\nfailure_rate"


def test_failed_post_is_not_recorded_and_is_retried(webhook: str, tmp_path: Path) -> None:
    state = tmp_path / "alerts.json"
    alert = Alert(key="k", severity="warning", title="t", text="x")
    _Hook.fail_next = True
    with pytest.raises(urllib.error.HTTPError):
        WebhookAlerter(webhook, state).send(alert, datetime(2026, 11, 10, tzinfo=UTC))
    assert WebhookAlerter(webhook, state).send(alert, datetime(2026, 11, 10, 0, 1, tzinfo=UTC))
    assert len(_Hook.received) == 1
