"""Least-privilege IAM for the two runtimes: Spark jobs (EMR Serverless) and Airflow (MWAA).

Why inline, enumerated policies: each role gets exactly the actions on exactly the ARNs it uses, and the policy
rule ``iam-least-privilege`` (policies.py) rejects wildcard actions and ``Resource: "*"`` without a condition.
Spark reads raw, writes bronze, reads job PEXes and its source credentials; Airflow reads DAGs, starts and watches
job runs on one application and passes only the Spark role. Neither can touch the other's key or data.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

Statement = dict[str, Any]


def assume_role_policy(*services: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": {"Service": list(services)}, "Action": "sts:AssumeRole"}
            ],
        }
    )


def policy_document(statements: Sequence[Statement]) -> pulumi.Output[str]:
    """A policy JSON string from statements whose Resource values may be Outputs (ARNs of declared resources)."""
    return pulumi.Output.from_input(list(statements)).apply(
        lambda resolved: json.dumps({"Version": "2012-10-17", "Statement": resolved}, sort_keys=True)
    )


def _objects(bucket_arn: pulumi.Input[str], prefix: str = "") -> pulumi.Output[str]:
    return pulumi.Output.concat(bucket_arn, "/", prefix, "*")


@dataclass(frozen=True)
class Roles:
    spark_role: aws.iam.Role
    spark_policy: aws.iam.RolePolicy
    airflow_role: aws.iam.Role
    airflow_policy: aws.iam.RolePolicy


def spark_statements(
    raw_arn: pulumi.Input[str],
    bronze_arn: pulumi.Input[str],
    artifacts_arn: pulumi.Input[str],
    data_key_arn: pulumi.Input[str],
    artifact_key_arn: pulumi.Input[str],
    source_secret_arns: Sequence[pulumi.Input[str]],
    kafka_cluster_arn: pulumi.Input[str] | None,
) -> list[Statement]:
    statements: list[Statement] = [
        {"Sid": "ReadRaw", "Effect": "Allow", "Action": ["s3:GetObject", "s3:ListBucket"],
         "Resource": [raw_arn, _objects(raw_arn)]},
        {"Sid": "WriteBronze", "Effect": "Allow",
         "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:ListBucket"],
         "Resource": [bronze_arn, _objects(bronze_arn)]},
        {"Sid": "ReadJobPexes", "Effect": "Allow", "Action": ["s3:GetObject", "s3:ListBucket"],
         "Resource": [artifacts_arn, _objects(artifacts_arn, "spark/")]},
        {"Sid": "DataKey", "Effect": "Allow", "Action": ["kms:Decrypt", "kms:GenerateDataKey"], "Resource": [data_key_arn]},
        {"Sid": "ArtifactKeyRead", "Effect": "Allow", "Action": ["kms:Decrypt"], "Resource": [artifact_key_arn]},
        {"Sid": "SourceCredentials", "Effect": "Allow", "Action": ["secretsmanager:GetSecretValue"],
         "Resource": list(source_secret_arns)},
    ]
    if kafka_cluster_arn is not None:
        statements.append(
            {"Sid": "ReadTopics", "Effect": "Allow",
             "Action": ["kafka-cluster:Connect", "kafka-cluster:DescribeTopic", "kafka-cluster:ReadData",
                        "kafka-cluster:DescribeGroup", "kafka-cluster:AlterGroup"],
             "Resource": [kafka_cluster_arn,
                          pulumi.Output.from_input(kafka_cluster_arn).apply(lambda a: a.replace(":cluster/", ":topic/") + "/*"),
                          pulumi.Output.from_input(kafka_cluster_arn).apply(lambda a: a.replace(":cluster/", ":group/") + "/*")]}
        )
    return statements


def airflow_statements(
    env: str,
    artifacts_arn: pulumi.Input[str],
    artifact_key_arn: pulumi.Input[str],
    emr_application_arn: pulumi.Input[str],
    spark_role_arn: pulumi.Input[str],
    warehouse_secret_arn: pulumi.Input[str],
) -> list[Statement]:
    name = f"northstar-{env}"
    return [
        {"Sid": "ReadDagBundles", "Effect": "Allow", "Action": ["s3:GetObject", "s3:GetObjectVersion", "s3:ListBucket"],
         "Resource": [artifacts_arn, _objects(artifacts_arn, "airflow/")]},
        {"Sid": "ArtifactKey", "Effect": "Allow", "Action": ["kms:Decrypt", "kms:GenerateDataKey"], "Resource": [artifact_key_arn]},
        {"Sid": "RunSparkJobs", "Effect": "Allow",
         "Action": ["emr-serverless:StartJobRun", "emr-serverless:GetJobRun", "emr-serverless:CancelJobRun",
                    "emr-serverless:GetApplication"],
         "Resource": [emr_application_arn, pulumi.Output.concat(emr_application_arn, "/jobruns/*")]},
        {"Sid": "PassSparkRoleOnly", "Effect": "Allow", "Action": ["iam:PassRole"], "Resource": [spark_role_arn],
         "Condition": {"StringEquals": {"iam:PassedToService": "emr-serverless.amazonaws.com"}}},
        {"Sid": "WarehouseCredentials", "Effect": "Allow", "Action": ["secretsmanager:GetSecretValue"],
         "Resource": [warehouse_secret_arn]},
        {"Sid": "AirflowLogs", "Effect": "Allow",
         "Action": ["logs:CreateLogStream", "logs:CreateLogGroup", "logs:PutLogEvents", "logs:GetLogEvents",
                    "logs:GetLogRecord", "logs:GetLogGroupFields", "logs:GetQueryResults"],
         "Resource": [f"arn:aws:logs:*:*:log-group:airflow-{name}-*"]},
        {"Sid": "AirflowMetrics", "Effect": "Allow", "Action": ["airflow:PublishMetrics"],
         "Resource": [f"arn:aws:airflow:*:*:environment/{name}"]},
        {"Sid": "CeleryQueue", "Effect": "Allow",
         "Action": ["sqs:ChangeMessageVisibility", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:GetQueueUrl",
                    "sqs:ReceiveMessage", "sqs:SendMessage"],
         "Resource": ["arn:aws:sqs:*:*:airflow-celery-*"]},
        # PutMetricData has no resource-level permissions; the namespace condition scopes it instead.
        {"Sid": "CloudWatchMetrics", "Effect": "Allow", "Action": ["cloudwatch:PutMetricData"], "Resource": "*",
         "Condition": {"StringEquals": {"cloudwatch:namespace": "AmazonMWAA"}}},
    ]


def role(name: str, services: Sequence[str], description: str, tags: dict[str, str]) -> aws.iam.Role:
    return aws.iam.Role(name, name=name, assume_role_policy=assume_role_policy(*services), description=description,
                        max_session_duration=3600, tags=tags)


def role_policy(name: str, attached: aws.iam.Role, statements: Sequence[Statement]) -> aws.iam.RolePolicy:
    return aws.iam.RolePolicy(f"{name}-policy", role=attached.id, policy=policy_document(statements))
