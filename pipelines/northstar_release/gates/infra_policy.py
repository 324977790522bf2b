"""infra_policy: the stack config a release would write into the target environment must pass the infra policies.

Delegates to the infra version map adapter's ``check``: it renders ``Pulumi.<env>.yaml`` from the release's version
map into a temp dir and runs the component-side ``infra_check`` entry point (the Pulumi program under mocks, in the
``infra`` resolve), which applies the rules of ``infra/northstar_infra/policies.py``: KMS encryption, mandatory tags,
no public buckets. Any violation -- or a config the program refuses -- fails the gate; nothing in the env changes.
"""

from __future__ import annotations

from northstar_release.gates.base import GateContext, check_artifacts
from northstar_release.model import ArtifactKind, GateResult


class InfraPolicyGate:
    name = "infra_policy"
    description = ("the env's stack config with the release's artifact-version map passes the infra policies under "
                   "Pulumi mocks (KMS encryption, mandatory tags, no public buckets)")

    kind = ArtifactKind.INFRA_VERSION_MAP
    environment_dependent = True

    def evaluate(self, ctx: GateContext) -> list[GateResult]:
        return check_artifacts(ctx, self.name, self.kind)
