"""A deliberately non-compliant program variant for the check entry point's tests (never deployed).

It reuses the real stack's tags but declares a bucket with a public ACL, SSE-S3 (AES256) instead of KMS and a
partial public access block -- each rule should fire on the mocked registrations.
"""

from __future__ import annotations

import pulumi_aws as aws

from northstar_infra import stack


def build() -> list[object]:
    s = stack.load_settings()
    bucket = aws.s3.Bucket(f"leaky-{s.environment}", acl="public-read", tags=s.tags)
    sse = aws.s3.BucketServerSideEncryptionConfiguration(
        f"leaky-{s.environment}-sse",
        bucket=bucket.id,
        rules=[{"apply_server_side_encryption_by_default": {"sse_algorithm": "AES256"}}],
    )
    pab = aws.s3.BucketPublicAccessBlock(
        f"leaky-{s.environment}-pab", bucket=bucket.id, block_public_acls=True, block_public_policy=False
    )
    return [bucket, sse, pab]


def build_unencrypted() -> list[object]:
    """Private, tagged, but no encryption configuration at all."""
    s = stack.load_settings()
    bucket = aws.s3.Bucket(f"plain-{s.environment}", tags=s.tags)
    pab = aws.s3.BucketPublicAccessBlock(
        f"plain-{s.environment}-pab",
        bucket=bucket.id,
        block_public_acls=True,
        block_public_policy=True,
        ignore_public_acls=True,
        restrict_public_buckets=True,
    )
    return [bucket, pab]
