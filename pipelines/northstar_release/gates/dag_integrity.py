"""dag_integrity: the release's DAG bundle must import cleanly and new DAGs must follow the DAG policy.

Delegates to the DAG bundle adapter's ``check`` (which runs the component-side ``dagbag_check`` entry point in the
Airflow environment): DagBag import errors and new-DAG policy violations fail; legacy pass-through DAGs are import-only.
"""

from __future__ import annotations

from northstar_release.gates.base import GateContext, check_artifacts
from northstar_release.model import ArtifactKind, GateResult


class DagIntegrityGate:
    name = "dag_integrity"
    description = "DagBag imports cleanly; new DAGs satisfy the DAG policy (legacy pass-through: import-only)"

    kind = ArtifactKind.DAG_BUNDLE
    environment_dependent = False

    def evaluate(self, ctx: GateContext) -> list[GateResult]:
        return check_artifacts(ctx, self.name, self.kind)
