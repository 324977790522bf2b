"""Synthetic run records for the regression and output tests (the Airflow test uses a real metadata DB instead)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from northstar_health.runs import RunRecord

DEPLOYED = datetime(2026, 11, 10, 12, 0, tzinfo=UTC)


def hourly(pipeline: str, start: datetime, count: int, *, failing: set[int] = frozenset(),  # type: ignore[assignment]
           durations: list[float] | None = None) -> list[RunRecord]:
    """``count`` hourly runs from ``start``; indexes in ``failing`` fail (in task ``transform``)."""
    out = []
    for i in range(count):
        at = start + timedelta(hours=i)
        duration = durations[i] if durations else 600.0
        failed = i in failing
        out.append(RunRecord(pipeline=pipeline, run_id=f"{pipeline}-{i}", state="failed" if failed else "success",
                             logical_date=at, start=at, end=at + timedelta(seconds=duration),
                             failed_tasks=["transform"] if failed else []))
    return out


def around_deploy(pipeline: str, base_n: int, base_fail: set[int], watch_n: int, watch_fail: set[int],
                  base_durations: list[float] | None = None, watch_durations: list[float] | None = None
                  ) -> list[RunRecord]:
    before = hourly(pipeline, DEPLOYED - timedelta(hours=base_n), base_n, failing=base_fail, durations=base_durations)
    after = hourly(pipeline + "", DEPLOYED, watch_n, failing=watch_fail, durations=watch_durations)
    return before + [r.model_copy(update={"run_id": r.run_id + "-after"}) for r in after]
