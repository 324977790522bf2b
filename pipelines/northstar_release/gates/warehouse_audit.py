"""warehouse_audit: the release's warehouse project must pass its dbt unit tests and every SQLMesh audit, and any
breaking change to a ``finance`` model or forward-only change must be acknowledged by the release.

Why explicit: SQLMesh plans do not re-run an edited singular test (it is a metadata change), and SQLMesh ignores dbt
``unit_tests:`` entirely -- so a plan alone would let both through. Delegates to the warehouse adapter's ``check``
(component entry point ``warehouse``: ``unit-test``, ``audit --scratch`` and a non-applying ``plan`` into the env),
passing the release's ``ack:<model>`` tags as acknowledgements.
"""

from __future__ import annotations

from northstar_release.adapters.base import CheckRequest, CheckScope
from northstar_release.gates.base import GateContext, check_artifacts
from northstar_release.model import ArtifactKind, GateOutcome, GateResult


class WarehouseAuditGate:
    name = "warehouse_audit"
    description = ("dbt unit tests pass (dbt on DuckDB), every SQLMesh audit passes (sqlmesh audit), breaking finance / "
                   "forward-only changes are acknowledged (release tags ack:<model>)")

    kind = ArtifactKind.WAREHOUSE_PROJECT
    environment_dependent = True

    def evaluate(self, ctx: GateContext) -> list[GateResult]:
        """unit tests + audits depend only on the project's bytes: when they passed for this digest in the previous
        env (``ctx.prior``), their evidence is carried over with a pointer to it and only the plan into this env runs."""
        prior = {r.target: r for r in ctx.prior if r.outcome == GateOutcome.PASSED}
        if not prior or ctx.prior_ref is None:
            return check_artifacts(ctx, self.name, self.kind)
        results = []
        for artifact in [a for a in ctx.release.artifacts if a.kind == self.kind]:
            earlier = prior.get(f"{artifact.name}@{artifact.sha256[:12]}")
            adapter = ctx.adapters.get(self.kind)
            if earlier is None or adapter is None:
                return check_artifacts(ctx, self.name, self.kind)
            result = adapter.check(CheckRequest(artifact=artifact, env=ctx.env, release_id=ctx.release.id,
                                                acks=ctx.release.acks, scope=CheckScope.ENVIRONMENT,
                                                prior=earlier, prior_ref=ctx.prior_ref))
            results.append(result.model_copy(update={"gate": self.name}))
        return results
