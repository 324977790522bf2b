"""warehouse_audit: the release's warehouse project must pass its dbt unit tests and every SQLMesh audit, and any
breaking change to a ``finance`` model or forward-only change must be acknowledged by the release.

Why explicit: SQLMesh plans do not re-run an edited singular test (it is a metadata change), and SQLMesh ignores dbt
``unit_tests:`` entirely -- so a plan alone would let both through. Delegates to the warehouse adapter's ``check``
(component entry point ``warehouse``: ``unit-test``, ``audit --scratch`` and a non-applying ``plan`` into the env),
passing the release's ``ack:<model>`` tags as acknowledgements.
"""

from __future__ import annotations

from northstar_release.gates.base import GateContext, check_artifacts
from northstar_release.model import ArtifactKind, GateResult


class WarehouseAuditGate:
    name = "warehouse_audit"
    description = ("dbt unit tests pass (dbt on DuckDB), every SQLMesh audit passes (sqlmesh audit), breaking finance / "
                   "forward-only changes are acknowledged (release tags ack:<model>)")

    kind = ArtifactKind.WAREHOUSE_PROJECT
    environment_dependent = True

    def evaluate(self, ctx: GateContext) -> list[GateResult]:
        return check_artifacts(ctx, self.name, self.kind)
