"""The compliance rules flag deliberately non-compliant resources (and the pulumi-policy adapter reports them)."""

from __future__ import annotations

import json

from pulumi_policy import (
    PolicyCustomTimeouts,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    StackValidationArgs,
)

from northstar_infra import policies, policy_pack

GOOD_TAGS = {"environment": "dev", "owner": "data-platform", "cost-center": "cc-1", "managed-by": "pulumi"}


def _bad_bucket_stack() -> list[policies.Resource]:
    """A public, AES256-encrypted, partially tagged bucket: every rule should fire."""
    return [
        policies.Resource(
            policies.BUCKET, "leaky", {"bucket": "leaky-bucket", "acl": "public-read", "tags": {"owner": "x"}}
        ),
        policies.Resource(
            policies.SSE_CONFIG,
            "leaky-sse",
            {
                "bucket": "leaky-bucket",
                "rules": [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "AES256"}}],
            },
        ),
        policies.Resource(
            policies.PUBLIC_ACCESS_BLOCK,
            "leaky-pab",
            {"bucket": "leaky-bucket", "blockPublicAcls": True, "blockPublicPolicy": False},
        ),
    ]


def test_non_compliant_bucket_is_flagged_by_every_rule() -> None:
    found = {(v.rule, v.resource) for v in policies.validate_stack(_bad_bucket_stack())}
    assert found == {
        ("required-tags", "leaky"),
        ("no-public-buckets", "leaky"),
        ("encryption-kms", "leaky-sse"),
        ("no-public-buckets", "leaky-pab"),
        ("encryption-kms", "leaky"),
    }


def test_missing_tags_are_named() -> None:
    (violation,) = policies.check_required_tags(
        policies.Resource(policies.BUCKET, "b", {"tags": {"owner": "x"}})
    )
    assert violation.message == "missing or empty tags: environment, cost-center, managed-by"


def test_bucket_without_companion_resources_is_flagged() -> None:
    bare = policies.Resource(policies.BUCKET, "bare", {"bucket": "bare", "tags": GOOD_TAGS})
    assert {v.rule for v in policies.validate_stack([bare])} == {"encryption-kms", "no-public-buckets"}


def test_compliant_resources_pass() -> None:
    stack = [
        policies.Resource(policies.BUCKET, "ok", {"bucket": "ok", "tags": GOOD_TAGS}),
        policies.Resource(
            policies.SSE_CONFIG,
            "ok-sse",
            {"bucket": "ok", "rules": [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "aws:kms"}}]},
        ),
        policies.Resource(
            policies.PUBLIC_ACCESS_BLOCK,
            "ok-pab",
            {"bucket": "ok", **dict.fromkeys(policies.PUBLIC_ACCESS_FLAGS, True)},
        ),
    ]
    assert policies.validate_stack(stack) == []


def _policy_resource(resource: policies.Resource) -> PolicyResource:
    return PolicyResource(
        resource_type=resource.type,
        props=resource.props,
        urn=f"urn:pulumi:dev::northstar-platform::{resource.type}::{resource.name}",
        name=resource.name,
        opts=PolicyResourceOptions(
            protect=False,
            ignore_changes=[],
            delete_before_replace=None,
            aliases=[],
            custom_timeouts=PolicyCustomTimeouts(0, 0, 0),
            additional_secret_outputs=[],
        ),
        provider=None,
        parent=None,
        dependencies=[],
        property_dependencies={},
    )


def test_policy_pack_adapter_reports_violations_in_process() -> None:
    stack = _bad_bucket_stack()
    resource_reports: list[str] = []

    def report_resource(message: str, urn: str | None = None) -> None:
        resource_reports.append(message)

    for resource in stack:
        pr = _policy_resource(resource)
        args = ResourceValidationArgs(pr.resource_type, pr.props, pr.urn, pr.name, pr.opts, None)
        policy_pack.RESOURCE_POLICY.validate(args, report_resource)
    assert len(resource_reports) == 4
    assert any(m.startswith("[encryption-kms]") for m in resource_reports)

    stack_reports: list[tuple[str, str | None]] = []

    def report_stack(message: str, urn: str | None = None) -> None:
        stack_reports.append((message, urn))

    policy_pack.STACK_POLICY.validate(
        StackValidationArgs([_policy_resource(r) for r in stack]),
        report_stack,
    )
    leaky_urn = _policy_resource(stack[0]).urn
    assert stack_reports == [
        ("[encryption-kms] bucket has no aws:kms encryption configuration", leaky_urn),
        ("[no-public-buckets] bucket has no complete public access block", leaky_urn),
    ]


def _tagged(type_token: str, name: str, **props: object) -> policies.Resource:
    return policies.Resource(type_token, name, {"tags": GOOD_TAGS, **props})


def test_iam_wildcards_and_open_trust_are_flagged() -> None:
    broad = json.dumps({"Statement": [
        {"Sid": "All", "Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::b/*"},
        {"Sid": "Anywhere", "Effect": "Allow", "Action": ["s3:GetObject"], "Resource": "*"},
        {"Sid": "Scoped", "Effect": "Allow", "Action": ["cloudwatch:PutMetricData"], "Resource": "*",
         "Condition": {"StringEquals": {"cloudwatch:namespace": "X"}}},
    ]})
    (violation,) = policies.validate_resource(policies.Resource(policies.IAM_ROLE_POLICY, "p", {"policy": broad}))
    assert violation.rule == "iam-least-privilege"
    assert violation.message == "statement All: wildcard actions ['s3:*']; statement Anywhere: Resource '*' without a Condition"
    open_trust = json.dumps({"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "sts:AssumeRole"}]})
    assert [v.rule for v in policies.validate_resource(_tagged(policies.IAM_ROLE, "r", assumeRolePolicy=open_trust))] == [
        "iam-least-privilege"]


def test_service_encryption_public_endpoints_and_secret_values_are_flagged() -> None:
    found = {
        (v.rule, v.resource)
        for r in [
            _tagged(policies.SECRET, "no-key"),
            policies.Resource(policies.SECRET_VERSION, "value", {"secretString": "x"}),
            _tagged(policies.MWAA_ENVIRONMENT, "public-airflow", kmsKey="k", webserverAccessMode="PUBLIC_ONLY"),
            _tagged(policies.MSK_CLUSTER, "plaintext", encryptionInfo={
                "encryptionAtRestKmsKeyArn": "k", "encryptionInTransit": {"clientBroker": "TLS_PLAINTEXT"}},
                clientAuthentication={"unauthenticated": True}),
        ]
        for v in policies.validate_resource(r)
    }
    assert found == {
        ("encryption-kms", "no-key"),
        ("no-secret-values", "value"),
        ("no-public-endpoints", "public-airflow"),
        ("encryption-kms", "plaintext"),
        ("no-public-endpoints", "plaintext"),
    }
