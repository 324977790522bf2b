"""Checks on one loaded DAG (and its file's source): new-DAG policies, task cycles, Spark references, catalog SLAs.

Why these rules:
* owner / retries / tags: somebody answers for a failing task, transient failures retry, DAGs can be found.
* cycle: Airflow rejects a cyclic DAG at DagBag load with only "Faulty task: x"; the full loop is what a reviewer
  needs, so it is rebuilt here from the task graph.
* spark-pointer: a DAG must resolve a Spark job through the environment's pointer
  (``$NORTHSTAR_ENV_DIR/spark/<job>.current``, switched atomically by the release engine) at run time. A hard-coded
  PEX path or pinned digest keeps running the old job after a promotion or a rollback.
* sla: the catalog is the SLA's source of truth; a task that runs a catalog pipeline carries exactly that SLA.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from typing import Any

from northstar_airflow.catalog_expectations import TaskExpectation, describe
from northstar_contracts.airflow import (
    RULE_CYCLE,
    RULE_OWNER,
    RULE_RETRIES,
    RULE_SLA,
    RULE_SPARK_POINTER,
    RULE_TAGS,
    PolicyViolation,
)

DEFAULT_OWNER = "airflow"
"""Airflow's fallback owner; a DAG still carrying it has nobody responsible for it."""

POINTER = re.compile(r"NORTHSTAR_ENV_DIR[^\n]*/spark/(?P<job>[A-Za-z0-9_]+)\.current")
SUBMIT = re.compile(r"spark-submit|NORTHSTAR_SPARK_SUBMIT")
PEX_LITERAL = re.compile(r"[\w./{}$~-]*\w\.pex\b")
DIGEST = re.compile(r"(?<![0-9a-fA-F])[0-9a-f]{64}(?![0-9a-fA-F])")
STORE_PATH = re.compile(r"spark/jobs/")


def check_dag_policies(dag: Any, file: str) -> list[PolicyViolation]:
    """Policies for new DAGs: a real owner and at least one retry on every task, and non-empty DAG tags."""
    violations: list[PolicyViolation] = []
    tasks = list(dag.tasks)
    bad_owner = sorted(t.task_id for t in tasks if not (t.owner or "").strip() or t.owner == DEFAULT_OWNER)
    if bad_owner:
        violations.append(PolicyViolation(
            dag_id=dag.dag_id, file=file, rule=RULE_OWNER,
            message=f"owner must be set and not '{DEFAULT_OWNER}' (tasks: {', '.join(bad_owner)})"))
    no_retries = sorted(t.task_id for t in tasks if (t.retries or 0) < 1)
    if no_retries:
        violations.append(PolicyViolation(
            dag_id=dag.dag_id, file=file, rule=RULE_RETRIES,
            message=f"retries must be >= 1 (tasks: {', '.join(no_retries)})"))
    if not dag.tags:
        violations.append(PolicyViolation(dag_id=dag.dag_id, file=file, rule=RULE_TAGS,
                                          message="DAG must have at least one tag"))
    return violations


def find_cycle(dag: Any) -> list[str] | None:
    """One task cycle as ``[a, b, ..., a]`` (depth-first search over downstream edges), or None."""
    state: dict[str, int] = {}  # 1 on the current path, 2 done
    for root in sorted(dag.task_dict):
        if state.get(root):
            continue
        path: list[str] = [root]
        stack: list[Iterator[str]] = [iter(sorted(dag.task_dict[root].downstream_task_ids))]
        state[root] = 1
        while stack:
            nxt = next(stack[-1], None)
            if nxt is None:
                state[path.pop()] = 2
                stack.pop()
            elif state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            elif not state.get(nxt):
                state[nxt] = 1
                path.append(nxt)
                stack.append(iter(sorted(dag.task_dict[nxt].downstream_task_ids)))
    return None


def cycle_violation(dag: Any, file: str) -> PolicyViolation:
    loop = find_cycle(dag)
    shown = " -> ".join(loop) if loop else "(Airflow found a cycle)"
    return PolicyViolation(dag_id=dag.dag_id, file=file, rule=RULE_CYCLE,
                           message=f"task cycle {shown}: Airflow rejects this DAG at load, the scheduler would drop it")


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _strings(k)
            yield from _strings(v)
    elif isinstance(value, list | tuple | set | frozenset):
        for v in value:
            yield from _strings(v)


def _task_text(task: Any) -> str:
    return "\n".join(s for field in task.template_fields for s in _strings(getattr(task, field, None)))


def hard_coded_references(source: str) -> list[tuple[int, str, str]]:
    """``(line, literal, why)`` for every string constant in a DAG file that pins a Spark artifact."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []  # an import error already says so
    found: list[tuple[int, str, str]] = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Constant) and isinstance(node.value, str)):
            continue
        for pattern, why in ((PEX_LITERAL, "hard-coded Spark artifact path"), (DIGEST, "pinned artifact digest"),
                             (STORE_PATH, "artifact-store path")):
            m = pattern.search(node.value)
            if m:
                found.append((node.lineno, m.group(0), why))
                break
    return found


def check_spark_references(dag: Any, file: str, source: str | None,
                           expected: dict[str, TaskExpectation]) -> list[PolicyViolation]:
    """Spark jobs must be resolved through ``$NORTHSTAR_ENV_DIR/spark/<job>.current`` when the task runs."""
    out: list[PolicyViolation] = []

    def add(message: str) -> None:
        out.append(PolicyViolation(dag_id=dag.dag_id, file=file, rule=RULE_SPARK_POINTER, message=message))

    for line, literal, why in hard_coded_references(source or ""):
        add(f"line {line}: {why} '{literal}': resolve the job through $NORTHSTAR_ENV_DIR/spark/<job>.current, "
            "which the release engine switches on promotion and rollback")
    for task in sorted(dag.tasks, key=lambda t: t.task_id):
        text = _task_text(task)
        jobs = sorted({m.group("job") for m in POINTER.finditer(text)})
        submits = bool(SUBMIT.search(text)) or "SparkSubmit" in type(task).__name__
        if submits and not jobs:
            add(f"task {task.task_id} submits a Spark job without resolving it through "
                "$NORTHSTAR_ENV_DIR/spark/<job>.current")
        want = expected.get(task.task_id)
        if want is not None and want.spark_job and jobs and jobs != [want.spark_job]:
            add(f"task {task.task_id} resolves {', '.join(jobs)} but catalog pipeline {want.pipeline} "
                f"({want.source}) runs Spark job {want.spark_job}")
    return out


def check_slas(dag: Any, file: str, expected: dict[str, TaskExpectation]) -> list[PolicyViolation]:
    """Every catalog pipeline this DAG runs has its task, with exactly the catalog's SLA."""
    out: list[PolicyViolation] = []
    for task_id, want in sorted(expected.items()):
        if want.sla is None:
            continue
        declared = f"catalog pipeline {want.pipeline} ({want.source}) declares sla {describe(want.sla)}"
        if task_id not in dag.task_dict:
            message = f"no task {task_id}: {declared} and runs in this DAG"
        else:
            sla = dag.task_dict[task_id].sla
            if sla == want.sla:
                continue
            message = (f"task {task_id} has no sla: {declared}" if sla is None
                       else f"task {task_id} has sla {describe(sla)}: {declared}")
        out.append(PolicyViolation(dag_id=dag.dag_id, file=file, rule=RULE_SLA, message=message))
    return out
