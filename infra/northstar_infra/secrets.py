"""Secrets Manager *references* for the credentials the platform uses -- never their values.

Why no ``SecretVersion`` here: a value in the program would sit in Pulumi state, in previews and in review diffs.
The program declares each secret (name, KMS key, tags) so IAM can grant access to exactly these ARNs; the owning
team puts the value in with the AWS console/CLI or their rotation Lambda. The policy rule ``no-secret-values``
rejects any SecretVersion in the stack.
"""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

# name -> what it holds (the description is all the program knows about the value)
PLATFORM_SECRETS: dict[str, str] = {
    "retail-oltp-replication": "PostgreSQL replication user for retail_oltp CDC and snapshots",
    "finance-erp-readonly": "PostgreSQL read-only user for finance_erp snapshots",
    "snowflake-loader": "Snowflake key-pair user loading bronze/silver into the warehouse",
    "schema-registry": "Schema registry API credentials for Avro topics",
}


def build_secrets(env: str, key: aws.kms.Key, tags: dict[str, str], protect: bool) -> dict[str, aws.secretsmanager.Secret]:
    """One KMS-encrypted secret per platform credential at ``northstar/<env>/<name>`` (no value)."""
    return {
        name: aws.secretsmanager.Secret(
            f"northstar-{env}-{name}",
            name=f"northstar/{env}/{name}",
            description=description,
            kms_key_id=key.arn,
            recovery_window_in_days=30 if env == "prod" else 7,
            tags=tags,
            opts=pulumi.ResourceOptions(protect=protect),
        )
        for name, description in PLATFORM_SECRETS.items()
    }
