"""The data lake: raw (landing) and bronze buckets under their own KMS key, built from one secure-bucket recipe.

Why a separate key from the artifact bucket's: Airflow (MWAA) needs the artifact key to read DAGs but must never
decrypt customer data; Spark needs the data key. Separate keys make that least privilege enforceable in key policy
and IAM. Why raw expires: landed files are replayable from the sources for a bounded time only and hold PII;
bronze keeps history (versioned), raw keeps ``rawRetentionDays``.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws


@dataclass(frozen=True)
class SecureBucket:
    """A private, versioned, aws:kms-encrypted bucket and its companion resources."""

    bucket: aws.s3.Bucket
    versioning: aws.s3.BucketVersioning
    encryption: aws.s3.BucketServerSideEncryptionConfiguration
    public_access_block: aws.s3.BucketPublicAccessBlock
    lifecycle: aws.s3.BucketLifecycleConfiguration | None = None


def secure_bucket(
    name: str,
    key: aws.kms.Key,
    tags: dict[str, str],
    protect: bool,
    expire_days: int | None = None,
) -> SecureBucket:
    """Declare ``name`` with versioning, KMS default encryption, a full public access block and optional expiry."""
    opts = pulumi.ResourceOptions(protect=protect)
    bucket = aws.s3.Bucket(name, force_destroy=False, tags=tags, opts=opts)
    versioning = aws.s3.BucketVersioning(
        f"{name}-versioning", bucket=bucket.id, versioning_configuration={"status": "Enabled"}
    )
    encryption = aws.s3.BucketServerSideEncryptionConfiguration(
        f"{name}-sse",
        bucket=bucket.id,
        rules=[
            {
                "apply_server_side_encryption_by_default": {"sse_algorithm": "aws:kms", "kms_master_key_id": key.arn},
                "bucket_key_enabled": True,
            }
        ],
    )
    public_access_block = aws.s3.BucketPublicAccessBlock(
        f"{name}-public-access-block",
        bucket=bucket.id,
        block_public_acls=True,
        block_public_policy=True,
        ignore_public_acls=True,
        restrict_public_buckets=True,
    )
    lifecycle = None
    if expire_days is not None:
        lifecycle = aws.s3.BucketLifecycleConfiguration(
            f"{name}-lifecycle",
            bucket=bucket.id,
            rules=[
                {
                    "id": "expire-landed-files",
                    "status": "Enabled",
                    "filter": {"prefix": ""},
                    "expiration": {"days": expire_days},
                    "noncurrent_version_expiration": {"noncurrent_days": 7},
                    "abort_incomplete_multipart_upload": {"days_after_initiation": 2},
                }
            ],
        )
    return SecureBucket(bucket, versioning, encryption, public_access_block, lifecycle)


@dataclass(frozen=True)
class DataLake:
    data_key: aws.kms.Key
    raw: SecureBucket
    bronze: SecureBucket


def build_data_lake(env: str, tags: dict[str, str], protect: bool, raw_retention_days: int) -> DataLake:
    """Raw and bronze buckets for ``env`` under the data key (rotated yearly, 30-day deletion window)."""
    data_key = aws.kms.Key(
        f"northstar-data-{env}",
        description=f"Encrypts Northstar raw and bronze data in {env}",
        enable_key_rotation=True,
        deletion_window_in_days=30,
        tags=tags,
        opts=pulumi.ResourceOptions(protect=protect),
    )
    raw = secure_bucket(f"northstar-raw-{env}", data_key, tags, protect, expire_days=raw_retention_days)
    bronze = secure_bucket(f"northstar-bronze-{env}", data_key, tags, protect)
    return DataLake(data_key=data_key, raw=raw, bronze=bronze)
