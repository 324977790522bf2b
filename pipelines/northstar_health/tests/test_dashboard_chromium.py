"""The HTML dashboard in real headless Chromium: no console messages, charts drawn, DORA numbers of the JSON shown."""

from __future__ import annotations

import html
import json
import re
from datetime import UTC, datetime
from pathlib import Path

from northstar_health import dashboard, report
from northstar_health.dora import attempts_from_chain, env_dora
from northstar_health.slo import DagSlo, pipeline_health
from northstar_health.tests.chromium import render
from northstar_health.tests.history import COMMIT_TIMES, SINCE, UNTIL, scripted_chain
from northstar_health.tests.runs_fixture import hourly

NOW = datetime(2026, 11, 10, 12, tzinfo=UTC)


def _build(tmp_path: Path) -> tuple[Path, dict]:  # type: ignore[type-arg]
    attempts = attempts_from_chain(scripted_chain(), COMMIT_TIMES)
    dora = {env: env_dora(attempts, env, SINCE, UNTIL) for env in ("prod", "staging")}
    runs = (hourly("orders_hourly", datetime(2026, 11, 9, 6, tzinfo=UTC), 30, failing={3, 20})
            + hourly("stream_supervisor", datetime(2026, 11, 9, 12, tzinfo=UTC), 24))
    slos = {"orders_hourly": DagSlo(dag_id="orders_hourly", pipelines=["a"], batch_sla_s=900),
            "stream_supervisor": DagSlo(dag_id="stream_supervisor", pipelines=["b"], freshness_target_s=150)}
    health = pipeline_health(runs, slos, NOW)
    data = report.to_json(dora, {}, health)
    return dashboard.render(data, attempts, health, runs, NOW, tmp_path / "dashboard.html"), data


def test_dashboard_renders_in_chromium_with_the_reported_numbers(tmp_path: Path) -> None:
    page, data = _build(tmp_path)
    assert "<script src=" not in page.read_text()  # self-contained: plotly.js is inlined
    dom, console = render(page, tmp_path)
    assert console == []
    # Every chart was drawn by plotly.js (it adds an SVG with class main-svg inside each chart div).
    for i in range(3):
        chart = dom[dom.index(f'id="chart-{i}"'):]
        assert 'class="main-svg"' in chart[:20000], f"chart-{i} not drawn"
    # The tiles were built by the page's script from the embedded JSON: the numbers the JSON reports are in the DOM.
    prod = json.loads(json.dumps(data))["deployments"]["prod"]
    expected = {
        "frequency": f"{prod['deployment_frequency_per_day']:.2f} /day",  # 0.40
        "lead-time": f"{prod['lead_time_median_s'] / 3600:.2f} h",  # 8.10
        "cfr": f"{prod['change_failure_rate'] * 100:.1f} %",  # 60.0
        "recovery": f"{prod['recovery_median_s'] / 60:.1f} min",  # 70.0
    }
    assert expected == {"frequency": "0.40 /day", "lead-time": "8.10 h", "cfr": "60.0 %", "recovery": "70.0 min"}
    for tile, text in expected.items():
        found = re.search(rf'id="tile-prod-{tile}".*?<div class="value">(.*?)</div>', dom)
        assert found, f"tile {tile} missing from the rendered DOM"
        assert html.unescape(found.group(1)) == text


def test_console_errors_are_detected(tmp_path: Path) -> None:
    """The check above can fail: a page that throws is caught."""
    page = tmp_path / "broken.html"
    page.write_text("<!DOCTYPE html><html><body><script>throw new Error('dashboard-broken');</script></body></html>")
    _, console = render(page, tmp_path)
    assert any("dashboard-broken" in line for line in console)
