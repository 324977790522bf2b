"""schema_compat: every changed event schema must stay compatible with ALL versions registered in the target env.

Delegates to the event schemas adapter's ``check``: each schema of the release's bundle that the env's registry does
not hold yet is checked with the ``avro`` library's ``ReaderWriterCompatibilityChecker`` against the subject's
registered versions under the subject's mode from the catalog (``compatibility`` of the Kafka table in
pipelines/catalog/sources.yaml; default BACKWARD_TRANSITIVE, Confluent's semantics). A failure names the subject, the
file, the registered version it breaks and the checker's reason; nothing is registered. Environment-dependent: the
verdict depends on what that env's registry holds.
"""

from __future__ import annotations

from northstar_release.adapters.event_schemas import KIND
from northstar_release.gates.base import GateContext, check_artifacts
from northstar_release.model import GateResult


class SchemaCompatGate:
    name = "schema_compat"
    description = ("each changed Avro event schema is compatible with every version registered in the target env "
                   "under its subject's mode (default BACKWARD_TRANSITIVE)")

    kind = KIND
    environment_dependent = True

    def evaluate(self, ctx: GateContext) -> list[GateResult]:
        return check_artifacts(ctx, self.name, self.kind)
