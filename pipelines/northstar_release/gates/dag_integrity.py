"""dag_integrity: the release's DAG bundle must import cleanly and new DAGs must follow the DAG policy.

Delegates to the DAG bundle adapter's ``check`` (which runs the component-side ``dagbag_check`` entry point in the
Airflow environment): DagBag import errors and new-DAG policy violations fail; legacy pass-through DAGs are import-only.
"""

from __future__ import annotations

from northstar_release.gates.base import GateContext
from northstar_release.model import ArtifactKind, GateOutcome, GateResult


class DagIntegrityGate:
    name = "dag_integrity"
    description = "DagBag imports cleanly; new DAGs satisfy the DAG policy (legacy pass-through: import-only)"

    def evaluate(self, ctx: GateContext) -> list[GateResult]:
        adapter = ctx.adapters.get(ArtifactKind.DAG_BUNDLE)
        bundles = [a for a in ctx.release.artifacts if a.kind == ArtifactKind.DAG_BUNDLE]
        if not bundles:
            return [GateResult(gate=self.name, target=ctx.release.id, outcome=GateOutcome.PASSED,
                               summary="release carries no DAG bundle")]
        if adapter is None:
            return [GateResult(gate=self.name, target=ctx.release.id, outcome=GateOutcome.FAILED,
                               summary="no dag_bundle adapter configured")]
        results = []
        for artifact in bundles:
            result = adapter.check(artifact, ctx.env)
            results.append(result.model_copy(update={"gate": self.name}))
        return results
