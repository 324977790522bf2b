"""``contracts``: enforce the dbt project's model contracts that SQLMesh ignores, in the candidate environment.

Write: like the data-quality gate, the project is planned and applied into ``wap_<env>`` (the env's staging branch;
a no-op when that gate already wrote it, a virtual update when another env built the same snapshots). Nothing the
env serves changes. Check, for every model with ``contract: {enforced: true}`` (:mod:`contract_spec`):

* its own contract, on the built relation: the declared column names (none missing, none extra), their order (dbt
  creates a contracted table with the declared column list; SQLMesh keeps the SQL's order, so a consumer reading by
  position or ``select *`` would see a different table than the contract promises), each declared data type
  (sqlglot-normalized DuckDB types) and the constraints dbt enforces on DuckDB (``not_null``, ``unique``,
  ``primary_key``: counted on the built rows, as SQLMesh creates no constraint). A violation always blocks.
* breaking changes against what the target env serves (its SQLMesh environment ``<env>``: the live release): a
  column served today that the candidate removes (or renames) or retypes. It blocks unless the model is versioned
  (dbt model versions: consumers pin a version) or the release acknowledges it (``--ack MODEL`` or
  ``--ack MODEL:contract``, the release's ``ack:`` tags, kept in its audit record).
"""

from __future__ import annotations

import time
from typing import Any

from northstar_contracts.base import EXIT_OK, EXIT_PROBLEMS
from northstar_contracts.harness import Outcome
from northstar_contracts.warehouse_contract import (
    BreakingChange,
    ContractColumn,
    ContractModelResult,
    ContractProblem,
    WarehouseContractReport,
)
from northstar_dbt.warehouse import build_errors
from northstar_dbt.warehouse.contract_spec import ContractSpec, enforced_contracts, integer_width_only, normalize_type
from northstar_dbt.warehouse.engine import session, short_name
from northstar_dbt.warehouse.options import WarehouseOptions
from northstar_dbt.warehouse.plan_report import plan_into
from northstar_dbt.warehouse.quality import candidate_env


def acknowledged(acks: tuple[str, ...], model: str) -> bool:
    """``MODEL`` or ``MODEL:contract`` (case-insensitive, with or without the ``ack:`` prefix)."""
    for raw in acks:
        text = raw.strip().lower()
        text = text[4:] if text.startswith("ack:") else text
        name, sep, check = text.partition(":")
        if name == model.lower() and (not sep or check == "contract"):
            return True
    return False


def _relation(info: Any, naming: Any) -> tuple[str, str]:
    view = info.qualified_view_name
    return (view.schema_for_environment(naming, dialect="duckdb"),
            view.table_for_environment(naming, dialect="duckdb").name)


def _columns(con: Any, schema: str, table: str) -> list[tuple[str, str]]:
    rows = con.execute("select column_name, data_type from information_schema.columns where table_schema = ? and "
                       "table_name = ? order by ordinal_position", [schema, table]).fetchall()
    return [(str(r[0]), normalize_type(str(r[1])) or str(r[1])) for r in rows]


def _count(con: Any, sql: str) -> int:
    row = con.execute(sql).fetchone()
    return int(row[0]) if row else 0


def _constraint_problems(con: Any, relation: str, spec: ContractSpec, built: set[str]) -> list[ContractProblem]:
    """dbt-enforced constraints, counted on the built rows (identifiers come from the project's YAML, quoted)."""
    checks: list[tuple[str, tuple[str, ...]]] = [(k, (c.name,)) for c in spec.columns for k in c.constraints]
    checks += list(spec.model_constraints)
    problems = []
    for kind, cols in checks:
        if kind not in ("not_null", "unique", "primary_key") or not cols or not set(cols) <= built:
            continue
        quoted = ", ".join(f'"{c}"' for c in cols)
        if kind in ("not_null", "primary_key"):
            nulls = _count(con, f"select count(*) from {relation} where " +  # noqa: S608
                           " or ".join(f'"{c}" is null' for c in cols))
            if nulls:
                problems.append(ContractProblem(rule=kind, column=", ".join(cols), expected="no null",
                                                actual=f"{nulls} null row(s)",
                                                message=f"{kind} on {', '.join(cols)}: {nulls} row(s) are null"))
        if kind in ("unique", "primary_key"):
            dupes = _count(con, f"select count(*) from (select {quoted} from {relation} group by {quoted} "  # noqa: S608
                                f"having count(*) > 1)")
            if dupes:
                problems.append(ContractProblem(rule=kind, column=", ".join(cols), expected="unique",
                                                actual=f"{dupes} duplicated value(s)",
                                                message=f"{kind} on {', '.join(cols)}: {dupes} value(s) repeat"))
    return problems


def own_contract(spec: ContractSpec, built: list[tuple[str, str]],
                 notes: list[str] | None = None) -> tuple[list[ContractColumn], list[ContractProblem]]:
    """The declared columns against the built ones: names, order, types (integer-width differences go to ``notes``,
    see :func:`contract_spec.integer_width_only`)."""
    actual = dict(built)
    columns, problems = [], []
    notes = [] if notes is None else notes
    for pos, col in enumerate(spec.columns, start=1):
        declared = normalize_type(col.data_type)
        got = actual.get(col.name)
        columns.append(ContractColumn(name=col.name, position=pos, declared=declared, actual=got,
                                      snowflake=normalize_type(col.data_type, "snowflake"),
                                      constraints=list(col.constraints)))
        if got is None:
            problems.append(ContractProblem(rule="missing_column", column=col.name, expected=declared, actual=None,
                                            message=f"column {col.name} ({declared}) is declared but not built"))
        elif declared is not None and declared != got and integer_width_only(declared, got):
            notes.append(f"column {col.name}: declared {declared}, built {got} (integer width only: SQLMesh's "
                         f"inferred type; same values, NUMBER(38,0) on Snowflake)")
        elif declared is not None and declared != got:
            problems.append(ContractProblem(rule="type", column=col.name, expected=declared, actual=got,
                                            message=f"column {col.name}: declared {declared}, built {got}"))
    declared_names = [c.name for c in spec.columns]
    for name, got in built:
        if name not in declared_names:
            problems.append(ContractProblem(rule="extra_column", column=name, expected=None, actual=got,
                                            message=f"column {name} ({got}) is built but not in the contract"))
    built_order = [n for n, _ in built if n in declared_names]
    wanted_order = [n for n in declared_names if n in actual]
    if built_order != wanted_order:
        first = next(i for i, (a, b) in enumerate(zip(built_order, wanted_order, strict=True)) if a != b)
        problems.append(ContractProblem(
            rule="order", column=wanted_order[first], expected=f"position {first + 1}", actual=built_order[first],
            message=f"column order differs from the contract at position {first + 1}: declared "
                    f"{wanted_order[first]}, built {built_order[first]}"))
    return columns, problems


def breaking_changes(served: list[tuple[str, str]], built: list[tuple[str, str]]) -> list[BreakingChange]:
    """Columns served today that the candidate removes or retypes (added columns are not breaking)."""
    new = dict(built)
    old_names = {n for n, _ in served}
    added = [n for n, _ in built if n not in old_names]
    out = []
    for name, old_type in served:
        if name not in new:
            out.append(BreakingChange(column=name, change="removed", old_type=old_type, new_type=None,
                                      added_instead=added))
        elif new[name] != old_type:
            out.append(BreakingChange(column=name, change="retyped", old_type=old_type, new_type=new[name]))
    return out


def _describe(b: BreakingChange) -> str:
    if b.change == "removed":
        renamed = f" (renamed to {'/'.join(b.added_instead)}?)" if b.added_instead else ""
        return f"{b.column} removed{renamed}, was {b.old_type}"
    return f"{b.column} retyped {b.old_type} -> {b.new_type}"


def check_model(con: Any, spec: ContractSpec, cand: tuple[str, str] | None, served: tuple[str, str] | None,
                acks: tuple[str, ...]) -> ContractModelResult:
    if cand is None:
        return ContractModelResult(model=spec.model, yaml=spec.yaml, versioned=spec.versioned, status="violation",
                                   summary=f"{spec.model}: contracted model is not in the candidate environment",
                                   candidate_relation=None, served_relation=None, columns=[], problems=[],
                                   breaking=[])
    built = _columns(con, *cand)
    cand_rel = f'"{cand[0]}"."{cand[1]}"'
    notes: list[str] = []
    columns, problems = own_contract(spec, built, notes)
    problems += _constraint_problems(con, cand_rel, spec, {n for n, _ in built})
    served_cols = _columns(con, *served) if served is not None else []
    breaking = breaking_changes(served_cols, built) if served_cols else []
    served_rel = f"{served[0]}.{served[1]}" if served is not None and served_cols else None
    if problems:
        status = "violation"
        summary = f"{spec.model} breaks its contract ({spec.yaml}): " + "; ".join(p.message for p in problems)
    elif breaking:
        changes = "; ".join(_describe(b) for b in breaking)
        if spec.versioned:
            status, summary = "versioned", f"{spec.model}: {changes} -- versioned model, consumers pin a version"
        elif acknowledged(acks, spec.model):
            status, summary = "acknowledged", f"{spec.model}: {changes} -- acknowledged by the release"
        else:
            status = "breaking"
            summary = f"{spec.model}: breaking contract change against {served_rel}: {changes}"
    elif served_rel is None:
        status, summary = "new", f"{spec.model}: not served yet, contract holds ({len(columns)} columns)"
    else:
        status, summary = "pass", f"{spec.model}: contract holds, compatible with {served_rel}"
    return ContractModelResult(model=spec.model, yaml=spec.yaml, versioned=spec.versioned, status=status,
                               summary=summary, candidate_relation=f"{cand[0]}.{cand[1]}",
                               served_relation=served_rel, columns=columns, problems=problems, breaking=breaking,
                               notes=notes)


def cmd_contracts(opts: WarehouseOptions) -> Outcome:
    from sqlmesh.core.environment import Environment

    env = opts.environment
    wap = candidate_env(env)
    timings: dict[str, float] = {}
    specs = enforced_contracts(opts.project)
    with session(opts, timings) as context:
        with build_errors.capturing(context) as capture:
            try:
                code, plan = plan_into(context, wap, project=opts.project, apply=True, acks=opts.acks,
                                       timings=timings, command="contracts")
            except Exception as exc:  # noqa: BLE001 - a model that fails to build: report its own SQL error
                why = build_errors.summary(build_errors.failures(capture.failed, exc))
                return Outcome(EXIT_PROBLEMS, WarehouseContractReport(
                    ok=False, environment=env, candidate_environment=wap, baseline_environment=env,
                    baseline_exists=False, models=[], violations=[], breaking=[], acknowledged=[], timings=timings,
                    error=f"cannot write the project into {wap}: {why}"))
        if code != EXIT_OK:
            return Outcome(EXIT_PROBLEMS, WarehouseContractReport(
                ok=False, environment=env, candidate_environment=wap, baseline_environment=env,
                baseline_exists=False, models=[], violations=[], breaking=[], acknowledged=[], plan=plan,
                timings=timings, error=f"cannot write the project into {wap}: {plan.error}"))
        t0 = time.monotonic()
        reader = context.state_reader
        candidate = reader.get_environment(Environment.sanitize_name(wap))
        baseline = reader.get_environment(Environment.sanitize_name(env))
        cand = {short_name(s.name): s for s in candidate.snapshots if s.is_model}
        base = {short_name(s.name): s for s in baseline.snapshots if s.is_model} if baseline is not None else {}
        con = context.engine_adapter.connection
        results = []
        for spec in specs:
            info = cand.get(spec.model)
            served = base.get(spec.model)
            results.append(check_model(
                con, spec, _relation(info, candidate.naming_info) if info is not None else None,
                _relation(served, baseline.naming_info) if served is not None and baseline is not None else None,
                opts.acks))
        timings["contracts_s"] = round(time.monotonic() - t0, 3)
    report = WarehouseContractReport(
        ok=not any(r.status in ("violation", "breaking") for r in results), environment=env,
        candidate_environment=wap, baseline_environment=env, baseline_exists=baseline is not None, models=results,
        violations=[r.model for r in results if r.status == "violation"],
        breaking=[r.model for r in results if r.status == "breaking"],
        acknowledged=[r.model for r in results if r.status == "acknowledged"], plan=plan, timings=timings)
    return Outcome.of(report)
