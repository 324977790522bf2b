"""Runtimes of the estate: EMR Serverless for the Spark jobs, MWAA for Airflow, and the Kafka cluster (MSK) or,
where the stack uses a shared cluster, its connection.

Why EMR Serverless and MWAA: the seed runs 20 Spark jobs and 35 DAGs with a small platform team; managed runtimes
remove cluster patching, and per-stack capacity caps (``northstar:sizing``) bound cost. Everything is private:
MWAA's web server is PRIVATE_ONLY, MSK speaks TLS with IAM auth, and all of it sits in the stack's VPC subnets.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from northstar_infra.sizing import Network, Sizing

EMR_RELEASE = "emr-7.5.0"  # Spark 3.5, what the jobs' pyspark pin targets
AIRFLOW_VERSION = "2.10.3"
KAFKA_VERSION = "3.6.0"


@dataclass(frozen=True)
class Kafka:
    cluster: aws.msk.Cluster | None
    bootstrap_parameter: aws.ssm.Parameter


def build_kafka(env: str, sizing: Sizing, network: Network, data_key: aws.kms.Key, tags: dict[str, str],
                protect: bool, external_bootstrap: str | None) -> Kafka:
    """An MSK cluster (encrypted at rest with the data key, TLS in transit, IAM auth) or an external connection.

    Either way consumers find the brokers in SSM ``/northstar/<env>/kafka/bootstrap-servers`` (hostnames, not secrets).
    """
    parameter_name = f"/northstar/{env}/kafka/bootstrap-servers"
    if sizing.kafka_mode == "external":
        assert external_bootstrap is not None
        parameter = aws.ssm.Parameter(
            f"northstar-kafka-bootstrap-{env}", name=parameter_name, type="String", value=external_bootstrap,
            description="Bootstrap servers of the shared Kafka cluster this stack uses (not managed here)", tags=tags)
        return Kafka(cluster=None, bootstrap_parameter=parameter)
    cluster = aws.msk.Cluster(
        f"northstar-kafka-{env}",
        cluster_name=f"northstar-{env}",
        kafka_version=KAFKA_VERSION,
        number_of_broker_nodes=sizing.kafka_brokers,
        broker_node_group_info={
            "instance_type": sizing.kafka_instance_type,
            "client_subnets": list(network.subnet_ids),
            "security_groups": list(network.security_group_ids),
            "storage_info": {"ebs_storage_info": {"volume_size": sizing.kafka_volume_gb}},
        },
        encryption_info={
            "encryption_at_rest_kms_key_arn": data_key.arn,
            "encryption_in_transit": {"client_broker": "TLS", "in_cluster": True},
        },
        client_authentication={"sasl": {"iam": True}, "unauthenticated": False},
        tags=tags,
        opts=pulumi.ResourceOptions(protect=protect),
    )
    parameter = aws.ssm.Parameter(
        f"northstar-kafka-bootstrap-{env}", name=parameter_name, type="String",
        value=cluster.bootstrap_brokers_sasl_iam.apply(lambda v: v or "pending"),
        description="Bootstrap servers (SASL/IAM, TLS) of this stack's MSK cluster", tags=tags)
    return Kafka(cluster=cluster, bootstrap_parameter=parameter)


def build_spark_application(env: str, sizing: Sizing, network: Network, tags: dict[str, str]) -> aws.emrserverless.Application:
    """The EMR Serverless Spark application all job runs go to; capped capacity, stops when idle."""
    return aws.emrserverless.Application(
        f"northstar-spark-{env}",
        name=f"northstar-spark-{env}",
        release_label=EMR_RELEASE,
        type="spark",
        architecture="X86_64",
        maximum_capacity={"cpu": f"{sizing.emr_max_vcpu} vCPU", "memory": f"{sizing.emr_max_memory_gb} GB"},
        auto_start_configuration={"enabled": True},
        auto_stop_configuration={"enabled": True, "idle_timeout_minutes": sizing.emr_idle_timeout_minutes},
        network_configuration={"subnet_ids": list(network.subnet_ids), "security_group_ids": list(network.security_group_ids)},
        tags=tags,
    )


def build_airflow(env: str, sizing: Sizing, network: Network, artifacts_bucket: aws.s3.Bucket,
                  artifact_key: aws.kms.Key, execution_role: aws.iam.Role, tags: dict[str, str]) -> aws.mwaa.Environment:
    """MWAA reading DAG bundles from the artifact bucket (``airflow/dags``), private web server, task logs on."""
    return aws.mwaa.Environment(
        f"northstar-airflow-{env}",
        name=f"northstar-{env}",
        airflow_version=AIRFLOW_VERSION,
        environment_class=sizing.mwaa_environment_class,
        min_workers=sizing.mwaa_min_workers,
        max_workers=sizing.mwaa_max_workers,
        source_bucket_arn=artifacts_bucket.arn,
        dag_s3_path="airflow/dags",
        execution_role_arn=execution_role.arn,
        kms_key=artifact_key.arn,
        webserver_access_mode="PRIVATE_ONLY",
        network_configuration={"subnet_ids": list(network.subnet_ids[:2]),
                               "security_group_ids": list(network.security_group_ids)},
        airflow_configuration_options={"core.load_examples": "False", "core.default_timezone": "utc"},
        logging_configuration={
            "task_logs": {"enabled": True, "log_level": "INFO"},
            "scheduler_logs": {"enabled": True, "log_level": "WARNING"},
            "dag_processing_logs": {"enabled": True, "log_level": "WARNING"},
        },
        tags=tags,
    )
