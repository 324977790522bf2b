"""``dq``: the write-audit-publish data-quality check of a release's warehouse project against prod.

Write: the project is planned and applied into the SQLMesh environment ``wap_<env>`` of the same warehouse -- the
env's staging branch. It builds exactly the snapshots the later deploy into ``<env>`` will use (that deploy is then a
virtual update), while the views ``<env>`` serves do not change. Audit: every model whose own definition differs from
prod's (data hash), and each model directly downstream of one, is diffed against prod's table with ``northstar_dq``
(row-count delta, key uniqueness, null rate per column, rows added/removed/changed, masked sample rows), judged by
the thresholds the dbt project declares (``meta.data_quality``, per-layer defaults). Publish is the engine's deploy,
which only happens when this passed. A model prod does not have yet (first release) is reported as ``new`` and passes:
there is no baseline to compare with.

Acknowledgements: ``--ack MODEL`` accepts every failed check of MODEL, ``--ack MODEL:CHECK`` one check (``null_rate``
covers every column). They are the release's ``ack:`` tags, so they are in its audit record.
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import Any

from northstar_contracts.base import EXIT_OK, EXIT_PROBLEMS
from northstar_contracts.harness import Outcome
from northstar_contracts.warehouse import DqModelResult, WarehouseDqReport
from northstar_dbt.warehouse.engine import session, short_name
from northstar_dbt.warehouse.from_state import SourceSet, StateRefusal, find_source
from northstar_dbt.warehouse.options import WarehouseOptions
from northstar_dbt.warehouse.plan_report import plan_into

BASELINE = "prod"
SAMPLE_SIZE = 10


def candidate_env(env: str) -> str:
    return f"wap_{env}"


def _dq_acks(acks: tuple[str, ...], model: str) -> list[Any]:
    """The release's acks that concern ``model``: ``MODEL`` (every check) or ``MODEL:CHECK``."""
    from northstar_dq.verdict import CHECKS, Acknowledgement

    out = []
    for raw in acks:
        text = raw.strip().lower()
        text = text[4:] if text.startswith("ack:") else text
        name, sep, check = text.partition(":")
        if name != model.lower():
            continue
        checks = [check] if sep and check else list(CHECKS)
        out += [Acknowledgement(model=model, check=c, reason="release tag ack:" + text) for c in checks]
    return out


def _relation(info: Any, naming: Any) -> tuple[str, str, str]:
    """(schema, table, display name) of a snapshot's view as environment ``naming`` sees it."""
    view = info.qualified_view_name
    schema = view.schema_for_environment(naming, dialect="duckdb")
    table = view.table_for_environment(naming, dialect="duckdb").name
    return schema, table, f"{schema}.{table}"


def to_compare(candidate: Any, baseline: Any | None) -> list[tuple[Any, str]]:
    """Models whose own definition differs from the baseline's (or that it lacks), then each model directly
    downstream of one of them: (snapshot info, why)."""
    base = {s.name: s for s in (baseline.snapshots if baseline is not None else []) if s.is_model}
    models = {s.name: s for s in candidate.snapshots if s.is_model}
    changed = {n for n, s in models.items()
               if n not in base or s.fingerprint.data_hash != base[n].fingerprint.data_hash}
    out: list[tuple[Any, str]] = [(models[n], "changed") for n in sorted(changed)]
    for name, info in sorted(models.items()):
        if name in changed:
            continue
        parents = sorted(p.name for p in info.parents if p.name in changed)
        if parents:
            out.append((info, f"downstream of {short_name(parents[0])}"))
    return out


def _compare(context: Any, project: Path, info: Any, why: str, cand_naming: Any, base_naming: Any | None,
             base_names: set[str], acks: tuple[str, ...]) -> DqModelResult:
    from northstar_dq.diff import diff_tables
    from northstar_dq.keys import model_key
    from northstar_dq.thresholds import load_model_spec
    from northstar_dq.verdict import evaluate

    model = short_name(info.name)
    c_schema, c_table, c_rel = _relation(info, cand_naming)
    if base_naming is None or info.name not in base_names:
        return DqModelResult(model=model, why=why, status="new", prod_relation=None, candidate_relation=c_rel,
                             key=[], summary=f"{model}: prod has no table yet (first release of it): nothing to "
                                             "compare, passes")
    p_schema, p_table, p_rel = _relation(info, base_naming)
    spec = load_model_spec(project, model)
    key = model_key(project, model)
    con = context.engine_adapter.connection
    if not key:
        # No declared key: compare whole rows; uniqueness cannot be judged.
        cols = [str(r[0]) for r in con.execute(
            "select column_name from information_schema.columns where table_schema = ? and table_name = ? "
            "order by ordinal_position", [c_schema, c_table]).fetchall()]
        key = tuple(cols)
        spec = spec.model_copy(update={"thresholds": spec.thresholds.model_copy(update={"require_unique_key": False})})
    stats = diff_tables(con, p_schema, c_schema, p_table, key, SAMPLE_SIZE, spec.pii_columns, c_table)
    verdict = evaluate(spec, stats, _dq_acks(acks, model))
    failed = [c.reason for c in verdict.checks if c.status == "fail"]
    acked = [c.reason for c in verdict.checks if c.status == "acknowledged"]
    status = "blocked" if failed else ("acknowledged" if acked else "pass")
    summary = "; ".join(failed or acked) or (f"{model}: rows {stats.prod_rows} -> {stats.candidate_rows}, within "
                                             f"thresholds ({spec.layer})")
    return DqModelResult(model=model, why=why, status=status, summary=summary, prod_relation=p_rel,
                         candidate_relation=c_rel, key=list(key), verdict=verdict.model_dump(mode="json"))


def cmd_dq(opts: WarehouseOptions) -> Outcome:
    """Write the project into ``wap_<env>``, then diff what differs from prod.

    ``--from-env SRC`` (a pin of this digest, as for ``plan``) first writes ``wap_<env>`` from SQLMesh state over
    SRC's snapshot set, without loading the project (:mod:`from_state`: a pure virtual update or a refusal that
    changes nothing); on a refusal the project is loaded as before and the reason is kept in the plan's
    ``state_fallback``. The comparison is the same either way: it reads the two environments' records and tables.
    """
    fallback: str | None = None
    if opts.from_envs:
        try:
            timings: dict[str, float] = {}
            with session(opts, timings, load=False) as context:
                t0 = time.monotonic()
                source = find_source(context, opts.from_envs)
                timings["source_s"] = round(time.monotonic() - t0, 3)
                return _write_and_audit(context, opts, timings, source, None)
        except StateRefusal as exc:
            fallback = str(exc)
    timings = {}
    with session(opts, timings) as context:
        return _write_and_audit(context, opts, timings, None, fallback)


def _write_and_audit(context: Any, opts: WarehouseOptions, timings: dict[str, float], source: SourceSet | None,
                     fallback: str | None) -> Outcome:
    from sqlmesh.core.environment import Environment

    env = opts.environment
    wap = candidate_env(env)
    code, plan = plan_into(context, wap, project=opts.project, apply=True, acks=opts.acks, timings=timings,
                           command="dq", source=source)
    plan = dataclasses.replace(plan, state_fallback=fallback)
    if code != EXIT_OK:
        return Outcome(EXIT_PROBLEMS, WarehouseDqReport(
            ok=False, environment=env, candidate_environment=wap, baseline_environment=BASELINE,
            baseline_exists=False, models=[], blocked=[], acknowledged=[], plan=plan, timings=timings,
            error=f"cannot write the project into {wap}: {plan.error}"))
    t0 = time.monotonic()
    reader = context.state_reader
    candidate = reader.get_environment(Environment.sanitize_name(wap))
    baseline = reader.get_environment(BASELINE)
    base_names = {s.name for s in baseline.snapshots} if baseline is not None else set()
    results = [_compare(context, opts.project, info, why, candidate.naming_info,
                        baseline.naming_info if baseline is not None else None, base_names, opts.acks)
               for info, why in to_compare(candidate, baseline)]
    timings["diff_s"] = round(time.monotonic() - t0, 3)
    blocked = [r.model for r in results if r.status == "blocked"]
    report = WarehouseDqReport(
        ok=not blocked, environment=env, candidate_environment=wap, baseline_environment=BASELINE,
        baseline_exists=baseline is not None, models=results, blocked=blocked,
        acknowledged=[r.model for r in results if r.status == "acknowledged"], plan=plan, timings=timings)
    return Outcome.of(report)
