"""Post-deploy regression detection: a task failing one run in five is caught, ordinary noise is not."""

from __future__ import annotations

import math

import pytest

from northstar_health.regression import detect_regressions, fisher_one_sided
from northstar_health.tests.runs_fixture import DEPLOYED, around_deploy


def _verdict(runs: list, metric: str):  # type: ignore[no-untyped-def]
    return next(v for v in detect_regressions(runs, DEPLOYED) if v.metric == metric)


def test_fisher_upper_tail_matches_hand_computation() -> None:
    # 0/30 failed before, 3/15 after: all 3 failures fall in the 15 watch runs with p = C(15,3)/C(45,3).
    assert fisher_one_sided(0, 30, 3, 12) == pytest.approx(math.comb(15, 3) / math.comb(45, 3))
    # 1/40 before, 3/15 after: P(X>=3) = [C(4,3)C(51,12) + C(4,4)C(51,11)] / C(55,15).
    expected = (math.comb(4, 3) * math.comb(51, 12) + math.comb(51, 11)) / math.comb(55, 15)
    assert fisher_one_sided(1, 39, 3, 12) == pytest.approx(expected)


def test_one_failure_in_five_after_deploy_is_a_regression() -> None:
    runs = around_deploy("orders_hourly", 30, set(), 15, {4, 9, 14})
    v = _verdict(runs, "failure_rate")
    assert v.regressed
    assert (v.pipeline, v.baseline, v.observed, v.baseline_runs, v.watch_runs) == ("orders_hourly", 0.0, 0.2, 30, 15)
    assert v.failed_tasks == ["transform"]
    assert "p = 0.0321" in v.detail  # 455 / 14190


def test_normal_noise_is_not_a_regression() -> None:
    # The pipeline already failed 2 in 30 before; 1 in 15 after is the same noise.
    assert not _verdict(around_deploy("orders_hourly", 30, {3, 17}, 15, {6}), "failure_rate").regressed
    # A single failure never triggers (flakiness is the error budget's business) ...
    assert not _verdict(around_deploy("orders_hourly", 30, set(), 15, {6}), "failure_rate").regressed
    # ... and too few watch runs give "not enough runs yet", not a verdict.
    few = _verdict(around_deploy("orders_hourly", 30, set(), 4, {1, 3}), "failure_rate")
    assert not few.regressed and "not enough runs" in few.detail


def test_duration_regression_uses_median_plus_k_mad() -> None:
    base = [600.0 + (i % 7 - 3) * 10 for i in range(30)]  # 570..630 s, median 600, MAD 20
    slow = around_deploy("nightly", 30, set(), 6, set(), base, [1300.0] * 6)
    v = _verdict(slow, "duration_median_s")
    assert v.regressed and (v.baseline, v.observed) == (600.0, 1300.0)
    noisy = around_deploy("nightly", 30, set(), 6, set(), base, [610.0, 590.0, 640.0, 600.0, 620.0, 630.0])
    assert not _verdict(noisy, "duration_median_s").regressed
    # 600 + 3 x 20 x 1.4826 = 688.956 < 1.25 x 600 = 750: the relative floor decides.
    borderline = around_deploy("nightly", 30, set(), 6, set(), base, [720.0] * 6)
    assert not _verdict(borderline, "duration_median_s").regressed



def test_a_sub_minute_slowdown_is_noise_not_a_regression() -> None:
    base = [2.0 + (i % 5) * 0.1 for i in range(30)]  # a DAG that runs in about 2 s
    five_times = around_deploy("tiny", 30, set(), 6, set(), base, [10.0] * 6)
    v = _verdict(five_times, "duration_median_s")
    assert not v.regressed and "+ 60 s" in v.threshold, v  # 5x slower, yet 8 s: a loaded worker, not a rollback
    minutes = around_deploy("tiny", 30, set(), 6, set(), base, [120.0] * 6)
    assert _verdict(minutes, "duration_median_s").regressed
