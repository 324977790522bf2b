"""Rules across entries: sources exist in sources.yaml, sinks follow the naming contract, tags carry over from the
source, upstream pipelines and DAGs exist, schedules agree with the DAG that runs them, no upstream cycles, and
hand-written DAG files exist and declare their id.
"""

from __future__ import annotations

from northstar_catalog.loader import Catalog, Entry
from northstar_catalog.model import CONTINUOUS, Kind
from northstar_catalog.problems import Problem
from northstar_catalog.sources import SourceTable

DAGS_FILE = "pipelines/catalog/dags.yaml"


def _problem(entry: Entry, rule: str, message: str, field: str = "") -> Problem:
    key = f"pipelines(id={entry.pipeline.id})" + (f".{field}" if field else "")
    return Problem(entry.file, key, entry.line, rule, message)


def _source_table(catalog: Catalog, entry: Entry) -> tuple[SourceTable | None, str]:
    src = entry.pipeline.source
    if src.postgres:
        return catalog.sources.postgres(src.postgres), f"PostgreSQL table '{src.postgres}' (<system>.<table>)"
    if src.kafka:
        return catalog.sources.topic(src.kafka), f"Kafka topic '{src.kafka}'"
    return catalog.sources.prefix(src.s3 or ""), f"S3 prefix '{src.s3}'"


def _check_ingest(catalog: Catalog, entry: Entry) -> list[Problem]:
    table, what = _source_table(catalog, entry)
    if table is None:
        return [_problem(entry, "unknown-source", f"{what} is not in pipelines/catalog/sources.yaml", "source")]
    out = []
    if entry.pipeline.sink != table.bronze:
        out.append(_problem(entry, "sink-contract", f"sink must be '{table.bronze}' for {what}", "sink"))
    missing = table.tags - set(entry.pipeline.tag_names)
    if missing:
        out.append(_problem(entry, "source-tags", f"source is tagged {sorted(table.tags)} in sources.yaml; "
                                                  f"the pipeline must carry {sorted(missing)} too", "tags"))
    return out


def _check_upstream(catalog: Catalog, entry: Entry) -> list[Problem]:
    out = []
    for up in entry.pipeline.source.upstream or ():
        if up not in catalog.pipelines:
            out.append(_problem(entry, "unknown-upstream", f"upstream pipeline '{up}' is not in the catalog", "source.upstream"))
        elif entry.pipeline.sink.startswith("staging."):
            missing = set(catalog.pipelines[up].pipeline.tag_names) - set(entry.pipeline.tag_names)
            if missing:
                out.append(_problem(entry, "source-tags", f"staging model of '{up}' must carry its tags {sorted(missing)}", "tags"))
    return out


def _check_dag(catalog: Catalog, entry: Entry) -> list[Problem]:
    dag = catalog.dags.get(entry.pipeline.runs.dag)
    if dag is None:
        return [_problem(entry, "unknown-dag", f"DAG '{entry.pipeline.runs.dag}' is not declared in {DAGS_FILE}", "runs.dag")]
    if entry.pipeline.schedule != CONTINUOUS and entry.pipeline.schedule != dag.schedule:
        return [_problem(entry, "dag-schedule", f"schedule '{entry.pipeline.schedule}' differs from DAG '{dag.id}' "
                                                f"('{dag.schedule}'), which runs it", "schedule")]
    return []


def _cycles(catalog: Catalog) -> list[Problem]:
    state: dict[str, int] = {}  # 1 visiting, 2 done
    out: list[Problem] = []

    def visit(pid: str, trail: list[str]) -> None:
        if state.get(pid) == 2 or pid not in catalog.pipelines:
            return
        if state.get(pid) == 1:
            cycle = trail[trail.index(pid):] + [pid]
            out.append(_problem(catalog.pipelines[pid], "upstream-cycle", " -> ".join(cycle), "source.upstream"))
            return
        state[pid] = 1
        for up in catalog.pipelines[pid].pipeline.source.upstream or ():
            visit(up, [*trail, pid])
        state[pid] = 2

    for pid in sorted(catalog.pipelines):
        visit(pid, [])
    return out


def _check_dag_files(catalog: Catalog) -> list[Problem]:
    out = []
    used = {e.pipeline.runs.dag for e in catalog.pipelines.values()}
    for dag in catalog.dags.values():
        key = f"dags(id={dag.id})"
        if dag.generated and dag.id not in used:
            out.append(Problem(DAGS_FILE, key, None, "empty-dag", "a generated DAG must run at least one pipeline"))
        if dag.file is not None:
            path = catalog.root / dag.file
            if not path.is_file():
                out.append(Problem(DAGS_FILE, f"{key}.file", None, "dag-file", f"hand-written DAG file '{dag.file}' does not exist"))
            else:
                text = path.read_text(encoding="utf-8")
                if f'"{dag.id}"' not in text:
                    out.append(Problem(DAGS_FILE, f"{key}.file", None, "dag-file", f"'{dag.file}' does not declare dag_id \"{dag.id}\""))
                for pipeline in catalog.pipelines_of_dag(dag.id):
                    if f'task_id="{pipeline.id}"' not in text:
                        out.append(Problem(DAGS_FILE, f"{key}.file", None, "dag-task",
                                           f"'{dag.file}' has no task_id=\"{pipeline.id}\" for the pipeline it runs"))
    return out


def cross_check(catalog: Catalog) -> list[Problem]:
    problems: list[Problem] = []
    for entry in catalog.pipelines.values():
        if entry.pipeline.kind in (Kind.BATCH_INGEST, Kind.STREAMING_INGEST):
            problems.extend(_check_ingest(catalog, entry))
        problems.extend(_check_upstream(catalog, entry))
        problems.extend(_check_dag(catalog, entry))
    problems.extend(_cycles(catalog))
    problems.extend(_check_dag_files(catalog))
    return problems
