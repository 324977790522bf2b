"""Post-deploy data regressions: row volume, data-quality metrics and freshness, runs after vs the baseline before.

The inputs are per-run series: what each successful run of a pipeline reported for the models it writes (XCom
``northstar_data``, see ``runs.DATA_XCOM_KEY``) and, for every pipeline, the freshness gap its own run history shows.
Failed runs are left out (their numbers are partial); the failure-rate test judges them.

Method (robust to the jitter real loads have; one rule per metric kind, all on medians so one odd run decides
nothing -- more than half the watch runs must show the change):
- ``rows``: two-sided. Regression when ``|median after - median before| > max(k x MAD x 1.4826, rel x median before)``
  (k = 3, rel = 0.2): a 90 % drop or a 3x spike is flagged; day-to-day jitter of a few percent is inside both bands.
- ``null_rate.<column>``: increase only, above ``median before + max(k x scaled MAD, 0.05)`` (5 percentage points).
- ``duplicate_keys``: increase only, above ``max(median before + k x scaled MAD, max before)``: a key that was
  never duplicated before is flagged as soon as most watch runs duplicate it.
- ``freshness_s`` (reported data lag) and ``freshness_gap_s`` (time from the previous successful run's end to this
  run's end, from Airflow's own records): increase only, above ``max(median + k x scaled MAD, 1.5 x median,
  median + 60 s)`` -- the streaming target is 3 min, so a sub-minute change is worker noise.
A metric needs ``min_baseline`` (5) baseline values and ``min_watch`` (3) watch values; with fewer it is reported
as "not enough runs yet" and never flagged.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from dataclasses import dataclass

from northstar_health.runs import RunRecord

MAD_TO_SIGMA = 1.4826


@dataclass(frozen=True)
class DataThresholds:
    k: float = 3.0
    rows_rel: float = 0.2
    null_rate_abs: float = 0.05
    freshness_ratio: float = 1.5
    freshness_min_s: float = 60.0
    min_baseline: int = 5
    min_watch: int = 3


DEFAULT_THRESHOLDS = DataThresholds()


@dataclass(frozen=True)
class DataVerdict:
    """One (pipeline, model, metric) comparison; ``regression.RegressionVerdict`` wraps it for the watch."""

    pipeline: str
    model: str | None
    metric: str
    regressed: bool
    baseline: float | None
    observed: float | None
    baseline_runs: int
    watch_runs: int
    threshold: str
    detail: str


def scaled_mad(values: list[float], median: float) -> float:
    """Median absolute deviation scaled to a normal sigma: the noise measure of every regression threshold."""
    return statistics.median([abs(v - median) for v in values]) * MAD_TO_SIGMA


def judge(pipeline: str, model: str | None, metric: str, base: list[float], after: list[float],
          t: DataThresholds) -> DataVerdict:
    """Compare one metric's watch values with its baseline values under the rule for its kind (module docstring)."""
    mb = statistics.median(base) if base else None
    mw = statistics.median(after) if after else None
    label = f"{metric}[{model}]" if model else metric
    if mb is None or mw is None or len(base) < t.min_baseline or len(after) < t.min_watch:
        return DataVerdict(pipeline, model, label, False, mb, mw, len(base), len(after), "n/a",
                           f"not enough runs yet ({len(base)} baseline, {len(after)} watch)")
    mad = scaled_mad(base, mb)
    if metric == "rows":
        band = max(t.k * mad, t.rows_rel * abs(mb))
        regressed = abs(mw - mb) > band
        change = f"{(mw - mb) / mb:+.1%}" if mb else f"{mw - mb:+.0f}"
        threshold = f"|median - {mb:g}| > max({t.k} x {mad:.3f}, {t.rows_rel} x median) = {band:.3f}"
        detail = f"median rows {mw:g} after vs {mb:g} before ({change})"
    elif metric.startswith("null_rate."):
        limit = mb + max(t.k * mad, t.null_rate_abs)
        regressed = mw > limit
        threshold = f"median > {mb:.4f} + max({t.k} x {mad:.4f}, {t.null_rate_abs}) = {limit:.4f}"
        detail = f"median {metric} {mw:.4f} after vs {mb:.4f} before"
    elif metric == "duplicate_keys":
        limit = max(mb + t.k * mad, max(base))
        regressed = mw > limit
        threshold = f"median > max(median + {t.k} x MAD, max before) = {limit:g}"
        detail = f"median duplicate keys {mw:g} after vs {mb:g} before"
    else:  # freshness_s, freshness_gap_s
        limit = max(mb + t.k * mad, t.freshness_ratio * mb, mb + t.freshness_min_s)
        regressed = mw > limit
        threshold = (f"median > max(median + {t.k} x {mad:.3f} s, {t.freshness_ratio} x median, "
                     f"median + {t.freshness_min_s:.0f} s) = {limit:.3f} s")
        detail = f"median {metric} {mw:.3f} s after vs {mb:.3f} s before"
    return DataVerdict(pipeline, model, label, regressed, mb, mw, len(base), len(after), threshold, detail)


def freshness_gaps(runs: list[RunRecord]) -> list[tuple[RunRecord, float]]:
    """Each successful run with the seconds since the previous successful run ended (the data's age just before
    this run delivered); ``runs`` are one pipeline's finished runs, oldest first."""
    out: list[tuple[RunRecord, float]] = []
    previous = None
    for r in sorted((r for r in runs if not r.failed and r.end is not None), key=lambda r: r.logical_date):
        assert r.end is not None
        if previous is not None:
            out.append((r, (r.end - previous).total_seconds()))
        previous = r.end
    return out


def _matches(model: str, wanted: set[str] | None) -> bool:
    """A reported model name matches a changed model by full name or by its last dotted part."""
    return wanted is None or model in wanted or model.rsplit(".", 1)[-1] in {w.rsplit(".", 1)[-1] for w in wanted}


def data_verdicts(pipeline: str, base: list[RunRecord], after: list[RunRecord], all_runs: list[RunRecord],
                  models: Iterable[str] | None = None, t: DataThresholds = DEFAULT_THRESHOLDS) -> list[DataVerdict]:
    """Verdicts for every metric the pipeline's successful baseline runs reported for the ``models`` (None: all),
    plus the freshness gap; ``all_runs`` (the pipeline's finished runs) gives the gap of the first run of a window."""
    wanted = set(models) if models is not None else None
    ok_base = [r for r in base if not r.failed]
    ok_after = [r for r in after if not r.failed]
    out: list[DataVerdict] = []
    keys = sorted({(m, k) for r in ok_base for m, metrics in r.data.items() if _matches(m, wanted) for k in metrics})
    for model, metric in keys:
        out.append(judge(pipeline, model, metric, [r.data[model][metric] for r in ok_base if metric in r.data.get(model, {})],
                         [r.data[model][metric] for r in ok_after if metric in r.data.get(model, {})], t))
    base_ids, after_ids = {r.run_id for r in base}, {r.run_id for r in after}
    gaps = freshness_gaps(all_runs)
    out.append(judge(pipeline, None, "freshness_gap_s", [g for r, g in gaps if r.run_id in base_ids],
                     [g for r, g in gaps if r.run_id in after_ids], t))
    return out
