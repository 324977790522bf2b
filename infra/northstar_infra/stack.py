"""The Northstar platform stack: the seed's estate per environment.

Per stack: the artifact bucket and its KMS key (release artifacts, the artifact-version map in SSM), the data lake
(raw and bronze buckets under a separate data key, ``data_lake.py``), Secrets Manager references for the platform's
credentials (``secrets.py``, never values), least-privilege roles for Spark and Airflow (``iam.py``), and the
runtimes: EMR Serverless, MWAA and the Kafka cluster or its connection (``runtime.py``), sized by
``northstar:sizing`` and placed by ``northstar:network`` (``sizing.py``).

Why this shape:
- The release engine publishes dbt projects, DAG bundles and Spark job PEXes as versioned artifacts; the
  bucket is their single home per environment, so it must be encrypted (KMS), versioned (artifacts are
  never silently overwritten) and never public.
- The artifact-version map (which artifact version is deployed in this environment) is stack config
  (``northstar:artifactVersions``) so that a promotion is a reviewed config diff, and it is published to
  SSM so that runtime components can read it without Pulumi.
- Tags are set explicitly on every taggable resource (not only via provider default_tags) so that the
  mandatory-tag policy in ``policies.py`` can check them from resource inputs, in tests and in a policy pack.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from northstar_infra import iam, runtime, secrets, sizing
from northstar_infra.data_lake import DataLake, build_data_lake

REQUIRED_TAG_KEYS: tuple[str, ...] = ("environment", "owner", "cost-center", "managed-by")
"""Tags every taggable resource must carry; shared with ``policies.py``."""

ENVIRONMENTS: tuple[str, ...] = ("dev", "staging", "prod")


@dataclass(frozen=True)
class StackSettings:
    """Validated stack configuration, read once so that bad config fails before any resource is declared."""

    environment: str
    owner: str
    cost_center: str
    artifact_versions: Mapping[str, str]

    @property
    def tags(self) -> dict[str, str]:
        """Mandatory tags; ``managed-by`` tells operators not to hand-edit the resource."""
        return {
            "environment": self.environment,
            "owner": self.owner,
            "cost-center": self.cost_center,
            "managed-by": "pulumi",
        }


def load_settings(config: pulumi.Config | None = None) -> StackSettings:
    """Read ``northstar:*`` config, rejecting unknown environments and non-string versions early."""
    cfg = config or pulumi.Config("northstar")
    environment = cfg.require("environment")
    if environment not in ENVIRONMENTS:
        raise ValueError(f"northstar:environment must be one of {ENVIRONMENTS}, got {environment!r}")
    raw_versions = cfg.get_object("artifactVersions") or {}
    if not isinstance(raw_versions, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in raw_versions.items()
    ):
        raise ValueError("northstar:artifactVersions must be a map of artifact name -> version string")
    return StackSettings(
        environment=environment,
        owner=cfg.get("owner") or "data-platform",
        cost_center=cfg.get("costCenter") or "unassigned",
        artifact_versions=dict(sorted(raw_versions.items())),
    )


@dataclass(frozen=True)
class PlatformResources:
    """Handles to the declared resources, returned so tests and callers can inspect them."""

    kms_key: aws.kms.Key
    bucket: aws.s3.Bucket
    versioning: aws.s3.BucketVersioning
    encryption: aws.s3.BucketServerSideEncryptionConfiguration
    public_access_block: aws.s3.BucketPublicAccessBlock
    artifact_versions: aws.ssm.Parameter
    data_lake: DataLake
    secrets: dict[str, aws.secretsmanager.Secret]
    roles: iam.Roles
    spark_application: aws.emrserverless.Application
    airflow: aws.mwaa.Environment
    kafka: runtime.Kafka


def build(settings: StackSettings | None = None) -> PlatformResources:
    """Declare all resources for the current stack and export the outputs the release engine reads."""
    s = settings or load_settings()
    capacity, network, kafka_bootstrap = sizing.load()
    env = s.environment
    tags = s.tags
    # Prod data must survive an accidental `pulumi destroy` or a refactor that renames resources.
    protect = pulumi.ResourceOptions(protect=env == "prod")

    kms_key = aws.kms.Key(
        f"northstar-artifacts-{env}",
        description=f"Encrypts Northstar release artifacts in {env}",
        enable_key_rotation=True,
        deletion_window_in_days=30,
        tags=tags,
        opts=protect,
    )
    bucket = aws.s3.Bucket(
        f"northstar-artifacts-{env}",
        force_destroy=False,
        tags=tags,
        opts=protect,
    )
    versioning = aws.s3.BucketVersioning(
        f"northstar-artifacts-{env}-versioning",
        bucket=bucket.id,
        versioning_configuration={"status": "Enabled"},
    )
    encryption = aws.s3.BucketServerSideEncryptionConfiguration(
        f"northstar-artifacts-{env}-sse",
        bucket=bucket.id,
        rules=[
            {
                "apply_server_side_encryption_by_default": {
                    "sse_algorithm": "aws:kms",
                    "kms_master_key_id": kms_key.arn,
                },
                "bucket_key_enabled": True,
            }
        ],
    )
    public_access_block = aws.s3.BucketPublicAccessBlock(
        f"northstar-artifacts-{env}-public-access-block",
        bucket=bucket.id,
        block_public_acls=True,
        block_public_policy=True,
        ignore_public_acls=True,
        restrict_public_buckets=True,
    )
    artifact_versions = aws.ssm.Parameter(
        f"northstar-artifact-versions-{env}",
        name=f"/northstar/{env}/artifact-versions",
        type="String",
        description="JSON map of artifact name -> version deployed in this environment (from stack config)",
        value=json.dumps(dict(s.artifact_versions), sort_keys=True),
        tags=tags,
    )

    lake = build_data_lake(env, tags, env == "prod", capacity.raw_retention_days)
    platform_secrets = secrets.build_secrets(env, kms_key, tags, env == "prod")
    kafka = runtime.build_kafka(env, capacity, network, lake.data_key, tags, env == "prod", kafka_bootstrap)
    spark_app = runtime.build_spark_application(env, capacity, network, tags)
    spark_role = iam.role(f"northstar-spark-jobs-{env}", ["emr-serverless.amazonaws.com"],
                          "Runs Northstar Spark job PEXes on EMR Serverless", tags)
    spark_policy = iam.role_policy(f"northstar-spark-jobs-{env}", spark_role, iam.spark_statements(
        lake.raw.bucket.arn, lake.bronze.bucket.arn, bucket.arn, lake.data_key.arn, kms_key.arn,
        [platform_secrets["retail-oltp-replication"].arn, platform_secrets["finance-erp-readonly"].arn],
        kafka.cluster.arn if kafka.cluster is not None else None))
    airflow_role = iam.role(f"northstar-airflow-{env}", ["airflow.amazonaws.com", "airflow-env.amazonaws.com"],
                            "MWAA execution role for the Northstar DAGs", tags)
    airflow_policy = iam.role_policy(f"northstar-airflow-{env}", airflow_role, iam.airflow_statements(
        env, bucket.arn, kms_key.arn, spark_app.arn, spark_role.arn, platform_secrets["snowflake-loader"].arn))
    airflow = runtime.build_airflow(env, capacity, network, bucket, kms_key, airflow_role, tags)

    pulumi.export("environment", env)
    pulumi.export("rawBucketName", lake.raw.bucket.bucket)
    pulumi.export("bronzeBucketName", lake.bronze.bucket.bucket)
    pulumi.export("sparkApplicationId", spark_app.id)
    pulumi.export("sparkJobRoleArn", spark_role.arn)
    pulumi.export("airflowEnvironmentName", airflow.name)
    pulumi.export("kafkaBootstrapParameter", kafka.bootstrap_parameter.name)
    pulumi.export("artifactBucketName", bucket.bucket)
    pulumi.export("artifactBucketArn", bucket.arn)
    pulumi.export("artifactVersionsParameter", artifact_versions.name)
    pulumi.export("artifactVersions", dict(s.artifact_versions))
    return PlatformResources(
        kms_key=kms_key,
        bucket=bucket,
        versioning=versioning,
        encryption=encryption,
        public_access_block=public_access_block,
        artifact_versions=artifact_versions,
        data_lake=lake,
        secrets=platform_secrets,
        roles=iam.Roles(spark_role, spark_policy, airflow_role, airflow_policy),
        spark_application=spark_app,
        airflow=airflow,
        kafka=kafka,
    )
