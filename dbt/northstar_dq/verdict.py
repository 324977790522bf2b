"""Turn diff statistics and thresholds into a frozen, explainable verdict.

Why a separate step: the diff measures, the verdict judges. Keeping them apart lets the gate store the raw numbers as
evidence and lets an acknowledgement (an intended change, e.g. "we really do drop test orders now") turn one named
failed check into "acknowledged" without hiding the numbers that made it fail.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field  # pants: no-infer-dep (installed by dbt-core, see dbt/BUILD)

from northstar_dq.diff import DiffStats
from northstar_dq.thresholds import ModelSpec, Thresholds

CHECKS = ("row_count_delta", "unique_key", "columns_removed", "rows_added", "rows_removed", "rows_changed", "null_rate")


class Acknowledgement(BaseModel):
    """An intended change: `check` failing on `model` is accepted. `null_rate` covers every `null_rate.<column>`."""

    model_config = ConfigDict(frozen=True)

    model: str
    check: str
    reason: str = ""
    by: str = ""

    def covers(self, model: str, check: str) -> bool:
        return self.model == model and (self.check == check or check.startswith(self.check + "."))

    @classmethod
    def parse(cls, text: str) -> Acknowledgement:
        """`model:check` (CLI form)."""
        model, sep, check = text.partition(":")
        base = check.split(".", 1)[0]
        if not sep or not model or base not in CHECKS:
            raise ValueError(f"acknowledgement {text!r} must be MODEL:CHECK with CHECK one of {list(CHECKS)} (null_rate.COLUMN allowed)")
        return cls(model=model, check=check)


class CheckResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    check: str
    status: Literal["pass", "fail", "acknowledged"]
    observed: float | None
    threshold: float | None
    reason: str


class Verdict(BaseModel):
    """The record a data-quality gate stores as evidence for one model."""

    model_config = ConfigDict(frozen=True)

    model: str
    layer: str
    status: Literal["pass", "blocked"]
    checks: tuple[CheckResult, ...]
    thresholds: Thresholds
    threshold_sources: tuple[str, ...]
    acknowledgements: tuple[Acknowledgement, ...] = Field(default=())
    stats: DiffStats

    @property
    def failures(self) -> tuple[CheckResult, ...]:
        return tuple(c for c in self.checks if c.status == "fail")


def _pct(part: int, whole: int) -> float:
    return round(100.0 * part / whole, 4) if whole else (0.0 if part == 0 else float("inf"))


def _judge(model: str, check: str, observed: float, threshold: float, unit: str, what: str) -> tuple[str, float, float, str, bool]:
    ok = observed <= threshold
    word = "<=" if ok else ">"
    return check, observed, threshold, f"{model}: {check}: {what} {observed:g}{unit} {word} threshold {threshold:g}{unit}", ok


def evaluate(spec: ModelSpec, stats: DiffStats, acks: Iterable[Acknowledgement] = ()) -> Verdict:
    """Judge `stats` against `spec.thresholds`. A failed check covered by an acknowledgement becomes `acknowledged`."""
    t, m = spec.thresholds, spec.name
    acks = tuple(a for a in acks if a.model == m)
    raw: list[tuple[str, float, float, str, bool]] = []
    if stats.prod_rows == 0:
        raw.append(("row_count_delta", 0.0, t.max_row_count_delta_pct,
                    f"{m}: row_count_delta: prod is empty, no baseline (candidate has {stats.candidate_rows} rows)", True))
    else:
        delta = abs(_pct(stats.candidate_rows - stats.prod_rows, stats.prod_rows))
        raw.append(_judge(m, "row_count_delta", delta, t.max_row_count_delta_pct, "%",
                          f"row count {stats.prod_rows} -> {stats.candidate_rows}, delta"))
    if t.require_unique_key:
        bad = stats.candidate_duplicate_keys + stats.candidate_null_keys
        raw.append(_judge(m, "unique_key", bad, 0, " rows", f"key {list(stats.key)}: {stats.candidate_duplicate_keys} duplicate + "
                          f"{stats.candidate_null_keys} null-key rows ="))
    raw.append(_judge(m, "columns_removed", len(stats.columns_only_in_prod), 0, "",
                      f"prod columns missing in candidate {list(stats.columns_only_in_prod)}: count"))
    base = stats.prod_rows
    for check, n, limit in (("rows_added", stats.rows_added, t.max_rows_added_pct),
                            ("rows_removed", stats.rows_removed, t.max_rows_removed_pct),
                            ("rows_changed", stats.rows_changed, t.max_rows_changed_pct)):
        if base == 0:
            raw.append((check, 0.0, limit, f"{m}: {check}: prod is empty, no baseline", True))
        else:
            raw.append(_judge(m, check, _pct(n, base), limit, "%", f"{n} of {base} prod rows ="))
    for col in stats.nulls:
        prod_rate = _pct(col.prod_nulls, stats.prod_rows) if stats.prod_rows else 0.0
        cand_rate = _pct(col.candidate_nulls, stats.candidate_rows) if stats.candidate_rows else 0.0
        increase = round(max(0.0, cand_rate - prod_rate), 4)
        raw.append(_judge(m, f"null_rate.{col.column}", increase, t.max_null_rate_increase_pct, " pp",
                          f"null rate {prod_rate:g}% -> {cand_rate:g}%, increase"))
    checks = []
    for check, observed, threshold, reason, ok in raw:
        ack = next((a for a in acks if a.covers(m, check)), None)
        status: Literal["pass", "fail", "acknowledged"] = "pass" if ok else ("acknowledged" if ack else "fail")
        if status == "acknowledged" and ack is not None:
            reason += f" (acknowledged{': ' + ack.reason if ack.reason else ''})"
        checks.append(CheckResult(check=check, status=status, observed=observed, threshold=threshold, reason=reason))
    used = tuple(a for a in acks if any(a.covers(m, c.check) for c in checks if c.status == "acknowledged"))
    return Verdict(
        model=m, layer=spec.layer, status="blocked" if any(c.status == "fail" for c in checks) else "pass",
        checks=tuple(checks), thresholds=t, threshold_sources=spec.sources, acknowledgements=used, stats=stats,
    )
