"""pulumi-policy adapter over ``policies.py``.

Why separate: constructing ``PolicyPack`` starts a gRPC server and blocks, so this module only builds the
policy objects; ``serve()`` is called from a policy-pack entry point (``pulumi preview --policy-pack``).
Tests call the policy objects in-process, which proves the adapter wiring without a Pulumi CLI.
"""

from __future__ import annotations

from pulumi_policy import (
    EnforcementLevel,
    PolicyPack,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

from northstar_infra import policies


def _validate_resource(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    resource = policies.Resource(type=args.resource_type, name=args.name, props=args.props)
    for violation in policies.validate_resource(resource):
        report_violation(f"[{violation.rule}] {violation.message}", None)


def _validate_stack(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    resources = [policies.Resource(type=r.resource_type, name=r.name, props=r.props) for r in args.resources]
    urns = {r.name: r.urn for r in args.resources}
    per_resource = {(v.rule, v.resource, v.message) for r in resources for v in policies.validate_resource(r)}
    for violation in policies.validate_stack(resources):
        # Per-resource findings are already reported by the resource policy; report only cross-resource ones.
        if (violation.rule, violation.resource, violation.message) not in per_resource:
            report_violation(f"[{violation.rule}] {violation.message}", urns.get(violation.resource))


RESOURCE_POLICY = ResourceValidationPolicy(
    name="northstar-resource-compliance",
    description="Mandatory tags, KMS encryption, complete public access blocks, no public ACLs.",
    validate=_validate_resource,
    enforcement_level=EnforcementLevel.MANDATORY,
)

STACK_POLICY = StackValidationPolicy(
    name="northstar-bucket-compliance",
    description="Every S3 bucket has a KMS encryption configuration and a complete public access block.",
    validate=_validate_stack,
    enforcement_level=EnforcementLevel.MANDATORY,
)


def serve() -> None:
    """Start the policy pack server (blocks); only meaningful when launched by the Pulumi CLI."""
    PolicyPack(
        name="northstar-policies",
        policies=[RESOURCE_POLICY, STACK_POLICY],
        enforcement_level=EnforcementLevel.MANDATORY,
    )
