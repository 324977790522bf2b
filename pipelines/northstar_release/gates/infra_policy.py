"""infra_policy: the stack config a release would write into the target environment must pass the infra policies.

Delegates to the infra version map adapter's ``check``: it renders ``Pulumi.<env>.yaml`` from the release's version
map into a temp dir and runs the component-side ``infra_check`` entry point (the Pulumi program under mocks, in the
``infra`` resolve), which applies the rules of ``infra/northstar_infra/policies.py``: KMS encryption, mandatory tags,
no public buckets. Any violation -- or a config the program refuses -- fails the gate; nothing in the env changes.
"""

from __future__ import annotations

from northstar_release.gates.base import GateContext
from northstar_release.model import ArtifactKind, GateOutcome, GateResult


class InfraPolicyGate:
    name = "infra_policy"
    description = ("the env's stack config with the release's artifact-version map passes the infra policies under "
                   "Pulumi mocks (KMS encryption, mandatory tags, no public buckets)")

    def evaluate(self, ctx: GateContext) -> list[GateResult]:
        adapter = ctx.adapters.get(ArtifactKind.INFRA_VERSION_MAP)
        maps = [a for a in ctx.release.artifacts if a.kind == ArtifactKind.INFRA_VERSION_MAP]
        if not maps:
            return [GateResult(gate=self.name, target=ctx.release.id, outcome=GateOutcome.PASSED,
                               summary="release carries no infra version map")]
        if adapter is None:
            return [GateResult(gate=self.name, target=ctx.release.id, outcome=GateOutcome.FAILED,
                               summary="no infra_version_map adapter configured")]
        return [adapter.check(artifact, ctx.env).model_copy(update={"gate": self.name}) for artifact in maps]
