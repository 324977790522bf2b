"""Static, self-contained HTML dashboard (plotly.js inlined; no network access needed to view it).

Sections: DORA tiles per environment, the deployment timeline (gates blocked, deploys/promotions, failures,
rollbacks, regressions), error-budget burn per pipeline and a freshness heat map. The report's JSON is embedded in
the page (``<script id="health-data" type="application/json">``) and the tiles are drawn from it by a small script,
so what the page shows is exactly what ``--json`` reports.
"""

from __future__ import annotations

import html
import json
from datetime import datetime
from pathlib import Path
from typing import Any

import plotly.graph_objects as go

from northstar_health.dora import Attempt
from northstar_health.runs import RunRecord
from northstar_health.slo import PipelineHealth, freshness_grid

_TILES_JS = """
(function () {
  var data = JSON.parse(document.getElementById('health-data').textContent);
  var root = document.getElementById('dora-tiles');
  function fmt(v, scale, digits, unit) { return v === null ? 'n/a' : (v * scale).toFixed(digits) + unit; }
  Object.keys(data.deployments).sort().forEach(function (env) {
    var d = data.deployments[env];
    var tiles = [
      ['Deployment frequency', fmt(d.deployment_frequency_per_day, 1, 2, ' /day'), 'frequency'],
      ['Lead time (median)', fmt(d.lead_time_median_s, 1 / 3600, 2, ' h'), 'lead-time'],
      ['Change failure rate', fmt(d.change_failure_rate, 100, 1, ' %'), 'cfr'],
      ['Recovery time (median)', fmt(d.recovery_median_s, 1 / 60, 1, ' min'), 'recovery']];
    var row = document.createElement('div');
    row.className = 'env-row';
    var h = document.createElement('h3');
    h.textContent = env + ' (' + d.deployments + ' deployments, ' + d.failed_changes + '/' + d.changes + ' failed changes)';
    row.appendChild(h);
    tiles.forEach(function (t) {
      var tile = document.createElement('div');
      tile.className = 'tile';
      tile.id = 'tile-' + env + '-' + t[2];
      tile.innerHTML = '<div class="label"></div><div class="value"></div>';
      tile.querySelector('.label').textContent = t[0];
      tile.querySelector('.value').textContent = t[1];
      row.appendChild(tile);
    });
    root.appendChild(row);
  });
})();
"""

_STYLE = """body{font-family:sans-serif;margin:1.5em;color:#222}.env-row{margin-bottom:1em}
.tile{display:inline-block;border:1px solid #ccc;border-radius:6px;padding:.6em 1em;margin:.3em;min-width:12em}
.tile .label{font-size:.8em;color:#666}.tile .value{font-size:1.6em;font-weight:bold}"""

_EVENT_STYLE = {
    "succeeded": ("deployed", "circle", "#2ca02c"), "blocked": ("blocked by a gate", "x", "#ff7f0e"),
    "failed": ("failed (switched back)", "triangle-down", "#d62728"), "abandoned": ("abandoned", "square", "#7f7f7f"),
    "rollback": ("rollback", "diamond", "#9467bd"), "regression": ("deployed, later a regression", "star", "#d62728"),
    "rolled_back": ("deployed, later rolled back", "star-triangle-up", "#8c564b"),
}


def _timeline(attempts: list[Attempt]) -> go.Figure:
    fig = go.Figure()
    groups: dict[str, list[Attempt]] = {}
    for a in attempts:
        kind = "rollback" if a.action == "rollback" and a.status == "succeeded" else a.status
        if a.failure in ("regression", "rolled_back"):
            kind = a.failure
        groups.setdefault(kind, []).append(a)
    for kind, items in sorted(groups.items()):
        label, symbol, color = _EVENT_STYLE.get(kind, (kind, "circle-open", "#000"))
        fig.add_trace(go.Scatter(
            x=[(a.finished_at or a.started_at).isoformat() for a in items], y=[a.env for a in items], mode="markers",
            name=label, marker={"symbol": symbol, "size": 12, "color": color},
            text=[f"#{a.deployment_id} {a.action} {a.release_id}" for a in items], hoverinfo="text+x"))
    fig.update_layout(title="Deployment timeline", height=320, margin={"t": 40, "b": 30})
    return fig


def _budget(pipelines: list[PipelineHealth]) -> go.Figure:
    names = [p.dag_id for p in pipelines]
    burned = [round((1 - p.error_budget_remaining) * 100, 1) for p in pipelines]
    fig = go.Figure(go.Bar(x=burned, y=names, orientation="h", name="budget burned %",
                           marker={"color": ["#d62728" if b >= 100 else "#1f77b4" for b in burned]},
                           text=[f"{p.month_failed}/{p.month_runs} failed" for p in pipelines]))
    fig.update_layout(title="Monthly error budget burned (99.9 % objective; >= 100 % = exhausted)",
                      height=120 + 30 * len(names), margin={"t": 40, "b": 30}, xaxis={"title": "% of budget"})
    return fig


def _freshness(runs: list[RunRecord], dags: list[str], now: datetime) -> go.Figure:
    times, grid = freshness_grid(runs, dags, now)
    minutes = [[None if v is None else round(v / 60, 1) for v in row] for row in grid]
    fig = go.Figure(go.Heatmap(z=minutes, x=[t.isoformat() for t in times], y=dags, colorscale="YlOrRd",
                               colorbar={"title": "min since last success"}))
    fig.update_layout(title="Freshness (minutes since the last successful run), last 24 h",
                      height=120 + 30 * len(dags), margin={"t": 40, "b": 30})
    return fig


def render(report: dict[str, Any], attempts: list[Attempt], pipelines: list[PipelineHealth], runs: list[RunRecord],
           now: datetime, out: Path) -> Path:
    """Write the dashboard to ``out``; ``report`` is the JSON the CLI prints (embedded verbatim)."""
    figures = [_timeline(attempts), _budget(pipelines), _freshness(runs, [p.dag_id for p in pipelines], now)]
    parts = [fig.to_html(full_html=False, include_plotlyjs=(i == 0), div_id=f"chart-{i}", config={"displaylogo": False})
             for i, fig in enumerate(figures)]
    data = json.dumps(report, default=str, sort_keys=True).replace("</", "<\\/")
    page = (f"<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Northstar health</title>"
            f"<style>{_STYLE}</style></head><body><h1>Northstar deployment and pipeline health</h1>"
            f"<p>Generated {html.escape(now.isoformat())}</p>"
            f"<script id=\"health-data\" type=\"application/json\">{data}</script>"
            f"<h2>DORA</h2><div id=\"dora-tiles\"></div><script>{_TILES_JS}</script>"
            + "".join(f"<section>{p}</section>" for p in parts) + "</body></html>")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(page, encoding="utf-8")
    return out
