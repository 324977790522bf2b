"""dag_integrity: the release's DAG bundle must import cleanly, and its DAGs must follow the DAG policy and hygiene.

Delegates to the DAG bundle adapter's ``check`` (which runs the component-side ``dagbag_check`` entry point in the
Airflow environment on the bundle's files, the catalog and the legacy exemptions it carries). Blocking: import
errors, files that yield no DAG, task cycles, a dag_id defined in two files, a file parsing over the budget (1 s, in
a fresh process), Spark jobs referenced other than through the env pointer, tasks missing the SLA the catalog
declares, and new-DAG policy violations. Legacy pass-through DAGs: import/no-DAG/cycle/duplicate checks always; any
other finding only through an unexpired exemption (owner, expiry) in ``legacy/dag_exemptions.yaml``.
"""

from __future__ import annotations

from northstar_release.gates.base import GateContext, check_artifacts
from northstar_release.model import ArtifactKind, GateResult


class DagIntegrityGate:
    name = "dag_integrity"
    description = ("DagBag imports cleanly; no cycles, duplicate dag_ids, DAG-less files or slow parses; Spark via env "
                   "pointer; catalog SLAs; new-DAG policy (legacy: recorded exemptions)")

    kind = ArtifactKind.DAG_BUNDLE
    environment_dependent = False

    def evaluate(self, ctx: GateContext) -> list[GateResult]:
        return check_artifacts(ctx, self.name, self.kind)
