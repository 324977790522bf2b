"""Plain-Python compliance rules for Northstar infrastructure.

Why plain Python: the same rules must run in fast offline unit tests (over resources captured by
``pulumi.runtime.set_mocks``) and, later, inside a pulumi-policy pack at ``pulumi preview`` time. Keeping
them free of any Pulumi/pulumi-policy import means both callers share one implementation; the thin
pulumi-policy adapter lives in ``policy_pack.py``.

Rules work on raw Pulumi property dicts (camelCase keys, as both the mock monitor and the policy engine see
them).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

BUCKET = "aws:s3/bucket:Bucket"
BUCKET_V2 = "aws:s3/bucketV2:BucketV2"
SSE_CONFIG = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
SSE_CONFIG_V2 = "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2"
PUBLIC_ACCESS_BLOCK = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
BUCKET_ACL = "aws:s3/bucketAclV2:BucketAclV2"
KMS_KEY = "aws:kms/key:Key"
SSM_PARAMETER = "aws:ssm/parameter:Parameter"
SECRET = "aws:secretsmanager/secret:Secret"  # noqa: S105 - a resource type token  # pragma: allowlist secret
SECRET_VERSION = "aws:secretsmanager/secretVersion:SecretVersion"  # noqa: S105  # pragma: allowlist secret
IAM_ROLE = "aws:iam/role:Role"
IAM_ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
IAM_POLICY = "aws:iam/policy:Policy"
EMR_SERVERLESS_APP = "aws:emrserverless/application:Application"
MWAA_ENVIRONMENT = "aws:mwaa/environment:Environment"
MSK_CLUSTER = "aws:msk/cluster:Cluster"

BUCKET_TYPES = frozenset({BUCKET, BUCKET_V2})
SSE_TYPES = frozenset({SSE_CONFIG, SSE_CONFIG_V2})
TAGGABLE_TYPES = frozenset(
    {BUCKET, BUCKET_V2, KMS_KEY, SSM_PARAMETER, SECRET, IAM_ROLE, EMR_SERVERLESS_APP, MWAA_ENVIRONMENT, MSK_CLUSTER}
)
REQUIRED_TAGS: tuple[str, ...] = ("environment", "owner", "cost-center", "managed-by")
KMS_ALGORITHMS = frozenset({"aws:kms", "aws:kms:dsse"})
PUBLIC_ACCESS_FLAGS: tuple[str, ...] = (
    "blockPublicAcls",
    "blockPublicPolicy",
    "ignorePublicAcls",
    "restrictPublicBuckets",
)
PUBLIC_ACLS = frozenset({"public-read", "public-read-write", "authenticated-read"})


@dataclass(frozen=True)
class Resource:
    """A declared resource as policy rules see it: type token, logical name, input/output properties."""

    type: str
    name: str
    props: Mapping[str, Any] = field(default_factory=dict)
    id: str | None = None


@dataclass(frozen=True)
class Violation:
    """One broken rule; ``rule`` is stable so CI output and policy-pack names can key on it."""

    rule: str
    resource: str
    message: str


ResourceRule = Callable[[Resource], list[Violation]]


def check_required_tags(resource: Resource) -> list[Violation]:
    """Taggable resources must carry all mandatory tags with non-empty values (cost allocation, ownership)."""
    if resource.type not in TAGGABLE_TYPES:
        return []
    tags = resource.props.get("tags") or {}
    missing = [key for key in REQUIRED_TAGS if not str(tags.get(key) or "").strip()]
    if not missing:
        return []
    return [Violation("required-tags", resource.name, f"missing or empty tags: {', '.join(missing)}")]


def check_encryption(resource: Resource) -> list[Violation]:
    """Bucket encryption configurations must use KMS (AES256/SSE-S3 gives no key-level access control)."""
    if resource.type not in SSE_TYPES:
        return []
    rules = resource.props.get("rules") or []
    algorithms = [
        ((rule or {}).get("applyServerSideEncryptionByDefault") or {}).get("sseAlgorithm") for rule in rules
    ]
    if algorithms and all(alg in KMS_ALGORITHMS for alg in algorithms):
        return []
    return [
        Violation("encryption-kms", resource.name, f"sseAlgorithm must be aws:kms, got {algorithms or None}")
    ]


def check_public_access_block(resource: Resource) -> list[Violation]:
    """A public access block only protects if all four flags are on; a partial block is still public."""
    if resource.type != PUBLIC_ACCESS_BLOCK:
        return []
    off = [flag for flag in PUBLIC_ACCESS_FLAGS if resource.props.get(flag) is not True]
    if not off:
        return []
    return [
        Violation("no-public-buckets", resource.name, f"public access block flags not true: {', '.join(off)}")
    ]


def check_no_public_acl(resource: Resource) -> list[Violation]:
    """Canned public ACLs on buckets (or ACL resources) are forbidden outright."""
    if resource.type not in BUCKET_TYPES | {BUCKET_ACL}:
        return []
    acl = resource.props.get("acl")
    if acl in PUBLIC_ACLS:
        return [Violation("no-public-buckets", resource.name, f"public ACL {acl!r} is not allowed")]
    return []


def check_service_encryption(resource: Resource) -> list[Violation]:
    """Secrets, MWAA and MSK must name a customer-managed KMS key; MSK must also use TLS to clients."""
    props = resource.props
    problem = None
    if resource.type == SECRET and not props.get("kmsKeyId"):
        problem = "secret has no kmsKeyId"
    elif resource.type == MWAA_ENVIRONMENT and not props.get("kmsKey"):
        problem = "MWAA environment has no kmsKey"
    elif resource.type == MSK_CLUSTER:
        info = props.get("encryptionInfo") or {}
        in_transit = info.get("encryptionInTransit") or {}
        if not info.get("encryptionAtRestKmsKeyArn"):
            problem = "MSK cluster has no encryptionAtRestKmsKeyArn"
        elif in_transit.get("clientBroker") != "TLS" or in_transit.get("inCluster") is False:
            problem = f"MSK cluster must use TLS client-broker and in-cluster, got {in_transit or None}"
    return [Violation("encryption-kms", resource.name, problem)] if problem else []


def check_private_endpoints(resource: Resource) -> list[Violation]:
    """MWAA's web server must not be reachable from the internet; MSK must not allow unauthenticated clients."""
    if resource.type == MWAA_ENVIRONMENT and resource.props.get("webserverAccessMode") != "PRIVATE_ONLY":
        return [Violation("no-public-endpoints", resource.name, "webserverAccessMode must be PRIVATE_ONLY")]
    if resource.type == MSK_CLUSTER and (resource.props.get("clientAuthentication") or {}).get("unauthenticated"):
        return [Violation("no-public-endpoints", resource.name, "MSK must not allow unauthenticated clients")]
    return []


def check_no_secret_values(resource: Resource) -> list[Violation]:
    """Secret values never go through the program (they would sit in state and previews): no SecretVersion."""
    if resource.type == SECRET_VERSION:
        return [Violation("no-secret-values", resource.name, "secret values must not be managed in the stack")]
    return []


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def check_least_privilege(resource: Resource) -> list[Violation]:
    """IAM policies: no wildcard actions (``*``, ``svc:*``), ``Resource: "*"`` only with a Condition, and role trust
    only for AWS services (never ``Principal: "*"``)."""
    if resource.type == IAM_ROLE:
        trust = _load_json(resource.props.get("assumeRolePolicy"))
        for st in _as_list((trust or {}).get("Statement") or []):
            principal = (st or {}).get("Principal")
            if principal == "*" or (isinstance(principal, dict) and ("AWS" in principal and "*" in _as_list(principal["AWS"]))):
                return [Violation("iam-least-privilege", resource.name, "role trust policy allows any principal")]
        return []
    if resource.type not in (IAM_ROLE_POLICY, IAM_POLICY):
        return []
    document = _load_json(resource.props.get("policy"))
    if document is None:
        return [Violation("iam-least-privilege", resource.name, "policy is not a JSON document")]
    problems = []
    for st in _as_list(document.get("Statement") or []):
        if (st or {}).get("Effect") != "Allow":
            continue
        sid = st.get("Sid", "?")
        wild = [a for a in _as_list(st.get("Action") or []) if a == "*" or str(a).endswith(":*")]
        if wild or "NotAction" in st:
            problems.append(f"statement {sid}: wildcard actions {wild or ['NotAction']}")
        if "*" in _as_list(st.get("Resource") or []) and not st.get("Condition"):
            problems.append(f"statement {sid}: Resource '*' without a Condition")
    return [Violation("iam-least-privilege", resource.name, "; ".join(problems))] if problems else []


def _load_json(value: Any) -> Any:
    if isinstance(value, dict):
        return value
    try:
        return json.loads(value) if isinstance(value, str) else None
    except json.JSONDecodeError:
        return None


RESOURCE_RULES: tuple[ResourceRule, ...] = (
    check_required_tags,
    check_encryption,
    check_public_access_block,
    check_no_public_acl,
    check_service_encryption,
    check_private_endpoints,
    check_no_secret_values,
    check_least_privilege,
)


def validate_resource(resource: Resource) -> list[Violation]:
    """Run every per-resource rule."""
    return [violation for rule in RESOURCE_RULES for violation in rule(resource)]


def _bucket_key(resource: Resource) -> str:
    """AWS identifies a bucket by its name, which is also what companion resources reference."""
    return str(resource.props.get("bucket") or resource.id or resource.name)


def validate_stack(resources: Iterable[Resource]) -> list[Violation]:
    """Per-resource rules plus cross-resource ones: every bucket needs KMS encryption and a full public block.

    In AWS provider v7 encryption and public-access settings are separate resources, so "bucket is
    encrypted" can only be decided by looking at the whole stack.
    """
    items = list(resources)
    violations = [v for r in items for v in validate_resource(r)]
    encrypted = {str(r.props.get("bucket")) for r in items if r.type in SSE_TYPES and not check_encryption(r)}
    blocked = {
        str(r.props.get("bucket"))
        for r in items
        if r.type == PUBLIC_ACCESS_BLOCK and not check_public_access_block(r)
    }
    for bucket in (r for r in items if r.type in BUCKET_TYPES):
        key = _bucket_key(bucket)
        if key not in encrypted:
            violations.append(
                Violation("encryption-kms", bucket.name, "bucket has no aws:kms encryption configuration")
            )
        if key not in blocked:
            violations.append(
                Violation("no-public-buckets", bucket.name, "bucket has no complete public access block")
            )
    return violations
