"""Render a ``ReleasePlan`` for humans (rows) and machines (JSON), without any terminal library.

Why separate from the planner (as SQLMesh's ``explainer.py``): ``--dry-run`` and ``plan`` show exactly the stage list
the evaluator runs, and the planner stays plain data. One ``visit_<stage>`` per stage type says what that stage will
do; the CLI turns the rows into a table.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from northstar_release.impact import ChangeImpact
from northstar_release.stages import CheckStage, DeployStage, GateStage, RecordStage, ReleasePlan, VerifyStage

COLUMNS = ("#", "stage", "kind", "description", "digest", "skip")


@dataclass(frozen=True)
class Explanation:
    title: str
    rows: tuple[tuple[str, ...], ...]
    caption: str

    @property
    def row_count(self) -> int:
        return len(self.rows)


class PlanExplainer:
    def __init__(self) -> None:
        self._visitors: dict[type, Callable[[Any], tuple[str, str, str]]] = {
            CheckStage: self.visit_check_stage, GateStage: self.visit_gate_stage, DeployStage: self.visit_deploy_stage,
            VerifyStage: self.visit_verify_stage, RecordStage: self.visit_record_stage,
        }

    def explain(self, plan: ReleasePlan) -> Explanation:
        rows = []
        for i, stage in enumerate(plan.stages, start=1):
            description, digest, skip = self._visitors[type(stage)](stage)
            rows.append((str(i), stage.name, stage.kind.value, description, digest, skip))
        return Explanation(title=f"{plan.action.value} {plan.release_id} -> {plan.env} (actor {plan.actor})",
                           rows=tuple(rows), caption="\n".join(plan.notes))

    def visit_check_stage(self, stage: CheckStage) -> tuple[str, str, str]:
        return stage.description, "", stage.skip_reason or ""

    def visit_gate_stage(self, stage: GateStage) -> tuple[str, str, str]:
        reused = ("" if not stage.reuse else "partly reused" if stage.environment_dependent else "reused")
        return stage.description, "", reused or (stage.skip_reason or "")

    def visit_deploy_stage(self, stage: DeployStage) -> tuple[str, str, str]:
        verb = "roll back: " if stage.mode.value == "rollback" else ""
        return verb + stage.description, stage.artifact.sha256[:12], stage.skip_reason or ""

    def visit_verify_stage(self, stage: VerifyStage) -> tuple[str, str, str]:
        parts = [f"{t.kind.value}[{','.join(t.names)}] {t.mode.value}" + (f" ({t.reason})" if t.reason else "")
                 for t in stage.targets]
        return stage.description + ("\n" + "\n".join(parts) if parts else ""), "", stage.skip_reason or ""

    def visit_record_stage(self, stage: RecordStage) -> tuple[str, str, str]:
        return stage.description, "", stage.skip_reason or ""


def explain(plan: ReleasePlan) -> tuple[Explanation, dict[str, Any]]:
    """Rows for humans and the plan as a JSON document (machines, audit evidence)."""
    return PlanExplainer().explain(plan), json.loads(plan.model_dump_json())


# ------------------------------------------------------------------------------------------------ change impact ---
IMPACT_COLUMNS = ("change", "models", "DAGs", "Spark jobs", "topics", "tests", "gates", "policy")


def _names(items: list[str], limit: int = 8) -> str:
    shown = ", ".join(items[:limit])
    return f"{shown}, +{len(items) - limit} more" if len(items) > limit else shown


def impact_rows(impacts: list[ChangeImpact]) -> list[tuple[str, ...]]:
    """One row per changed file for ``./release plan`` (table and Markdown): what it reaches downstream per tool,
    the gates of the kinds it reaches, and the policy tags on its path with the target that carries each."""
    rows: list[tuple[str, ...]] = []
    for i in impacts:
        rows.append((f"{i.path} ({i.kind})", _names(i.models), _names(i.dags), _names(i.spark_jobs), _names(i.topics),
                     _names(i.tests), ", ".join(i.gates), "\n".join(i.policy_reasons[:3])
                     + (f"\n+{len(i.policy_reasons) - 3} more" if len(i.policy_reasons) > 3 else "")))
    return rows
