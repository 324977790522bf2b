"""Post-deploy regression detection: runs after a deployment against the baseline before it.

Method (stated so reviewers can judge the noise handling):
- Failure rate: one-sided Fisher exact test of H0 "the failure proportion after the deploy is not higher than
  before" on the 2x2 table (baseline failures/successes, watch failures/successes); p = P(X >= observed failures)
  under the hypergeometric distribution with the table's margins. A regression needs p < ``alpha`` (0.05), at least
  ``min_baseline`` (10) baseline runs, ``min_watch`` (5) runs in the watch window and ``min_failures`` (2) failures
  in it: one failed run is flakiness that the error budget absorbs, never by itself a reason to roll back.
- Duration: the median duration of successful watch runs against baseline median + ``k`` (3) x MAD x 1.4826 (the MAD
  scaled to a normal sigma, robust to the outliers that batch runtimes have), at least ``min_ratio`` (1.25) x the
  baseline median, so a baseline with near-zero spread does not flag a few seconds, and at least ``min_increase_s``
  (60 s) above it: against a 45-minute batch SLA a sub-minute change is machine noise (a loaded worker), not a
  regression worth a rollback.
- Data: row volume, null rates and duplicate keys of the models the runs report, data lag and the freshness gap
  between successful runs: ``northstar_health.data_regression`` (median vs baseline median with MAD-scaled and
  floor bands; the method is stated there).
All tests see only finished runs (success or failed); runs still going are ignored.
"""

from __future__ import annotations

import dataclasses
import math
import statistics
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel

from northstar_health.data_regression import DEFAULT_THRESHOLDS, DataThresholds, data_verdicts, scaled_mad
from northstar_health.runs import RunRecord


class RegressionVerdict(BaseModel):
    """What the watch concluded about one metric of one pipeline."""

    pipeline: str
    metric: str  # failure_rate | duration_median_s | freshness_gap_s | <data metric>[<model>] (data_regression)
    regressed: bool
    baseline: float | None
    observed: float | None
    baseline_runs: int
    watch_runs: int
    threshold: str
    detail: str
    failed_tasks: list[str] = []
    model: str | None = None


def fisher_one_sided(base_fail: int, base_ok: int, watch_fail: int, watch_ok: int) -> float:
    """P(watch failures >= observed) for fixed margins (hypergeometric upper tail)."""
    total, failures, watch = base_fail + base_ok + watch_fail + watch_ok, base_fail + watch_fail, watch_fail + watch_ok
    denominator = math.comb(total, watch)
    upper = min(failures, watch)
    return sum(math.comb(failures, x) * math.comb(total - failures, watch - x) for x in range(watch_fail, upper + 1)) / denominator


def _failure_verdict(pipeline: str, base: list[RunRecord], watch: list[RunRecord], *, alpha: float,
                     min_baseline: int, min_watch: int, min_failures: int) -> RegressionVerdict:
    bf, wf = sum(r.failed for r in base), sum(r.failed for r in watch)
    rate_b = bf / len(base) if base else None
    rate_w = wf / len(watch) if watch else None
    tasks = sorted({t for r in watch for t in r.failed_tasks})
    common: dict[str, Any] = {"pipeline": pipeline, "metric": "failure_rate", "baseline": rate_b, "observed": rate_w,
              "baseline_runs": len(base), "watch_runs": len(watch), "failed_tasks": tasks}
    threshold = f"one-sided Fisher p < {alpha}, >= {min_failures} failures, n >= {min_baseline}/{min_watch}"
    if len(base) < min_baseline or len(watch) < min_watch:
        return RegressionVerdict(**common, regressed=False, threshold=threshold,
                                 detail=f"not enough runs yet ({len(base)} baseline, {len(watch)} watch)")
    p = fisher_one_sided(bf, len(base) - bf, wf, len(watch) - wf)
    regressed = p < alpha and wf >= min_failures
    return RegressionVerdict(**common, regressed=regressed, threshold=threshold,
                             detail=f"{wf}/{len(watch)} failed after vs {bf}/{len(base)} before; p = {p:.4f}")


def _duration_verdict(pipeline: str, base: list[RunRecord], watch: list[RunRecord], *, k: float, min_ratio: float,
                      min_baseline: int, min_watch: int, min_increase_s: float = 60.0) -> RegressionVerdict:
    bd = [d for r in base if not r.failed and (d := r.duration_s) is not None]
    wd = [d for r in watch if not r.failed and (d := r.duration_s) is not None]
    median_b = statistics.median(bd) if bd else None
    median_w = statistics.median(wd) if wd else None
    common: dict[str, Any] = {"pipeline": pipeline, "metric": "duration_median_s", "baseline": median_b, "observed": median_w,
              "baseline_runs": len(bd), "watch_runs": len(wd)}
    if median_b is None or median_w is None or len(bd) < min_baseline or len(wd) < min_watch:
        return RegressionVerdict(**common, regressed=False, threshold=f"median > baseline median + {k} x MAD",
                                 detail=f"not enough successful runs yet ({len(bd)} baseline, {len(wd)} watch)")
    mad = scaled_mad(bd, median_b)
    limit = max(median_b + k * mad, median_b * min_ratio, median_b + min_increase_s)
    return RegressionVerdict(**common, regressed=median_w > limit,
                             threshold=f"median > max(baseline median + {k} x {mad:.3f} s, {min_ratio} x median, "
                                       f"median + {min_increase_s:.0f} s) = {limit:.3f} s",
                             detail=f"median {median_w:.3f} s after vs {median_b:.3f} s before")


def detect_regressions(runs: Iterable[RunRecord], deployed_at: datetime, pipelines: Iterable[str] | None = None, *,
                       baseline: timedelta = timedelta(days=14), watch: timedelta = timedelta(days=2),
                       alpha: float = 0.05, min_baseline: int = 10, min_watch: int = 5, min_failures: int = 2,
                       k: float = 3.0, min_ratio: float = 1.25, models: Iterable[str] | None = None,
                       data: DataThresholds = DEFAULT_THRESHOLDS) -> list[RegressionVerdict]:
    """Verdicts (failure rate, duration, then the data metrics of ``models`` -- None: every model the runs report --
    and the freshness gap) per pipeline; runs are split by their logical date at ``deployed_at``."""
    wanted_models = list(models) if models is not None else None
    finished = [r for r in runs if r.finished]
    wanted = set(pipelines) if pipelines is not None else {r.pipeline for r in finished}
    verdicts = []
    for name in sorted(wanted):
        mine = [r for r in finished if r.pipeline == name]
        base = [r for r in mine if deployed_at - baseline <= r.logical_date < deployed_at]
        after = [r for r in mine if deployed_at <= r.logical_date < deployed_at + watch]
        verdicts.append(_failure_verdict(name, base, after, alpha=alpha, min_baseline=min_baseline,
                                         min_watch=min_watch, min_failures=min_failures))
        verdicts.append(_duration_verdict(name, base, after, k=k, min_ratio=min_ratio, min_baseline=min_baseline,
                                          min_watch=min_watch))
        verdicts += [RegressionVerdict(**dataclasses.asdict(d))
                     for d in data_verdicts(name, base, after, mine, wanted_models, data)]
    return verdicts
