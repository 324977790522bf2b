"""What the stack declares, per environment, checked offline under Pulumi mocks (one run per real stack file)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
import yaml

from northstar_infra import policies
from northstar_infra.tests.conftest import INFRA_DIR, RecordingMocks, load_stack_config

LIFECYCLE = "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"
VERSIONING = "aws:s3/bucketVersioning:BucketVersioning"


def _of_type(mocks: RecordingMocks, type_token: str) -> list[policies.Resource]:
    return [r for r in mocks.resources if r.type == type_token]


def _named(mocks: RecordingMocks, name: str, type_token: str | None = None) -> policies.Resource:
    """The resource called ``name`` (logical names repeat across types: the artifact key and bucket share one)."""
    (resource,) = (r for r in mocks.resources if r.name == name and type_token in (None, r.type))
    return resource


def _sizing(stack: str) -> dict[str, Any]:
    return yaml.safe_load((INFRA_DIR / f"Pulumi.{stack}.yaml").read_text())["config"]["northstar:sizing"]


def test_every_bucket_is_kms_encrypted_versioned_and_private(stack_run: tuple[str, RecordingMocks]) -> None:
    stack, mocks = stack_run
    buckets = {b.name: b for b in _of_type(mocks, policies.BUCKET)}
    assert set(buckets) == {f"northstar-{kind}-{stack}" for kind in ("artifacts", "raw", "bronze")}
    artifact_key = _named(mocks, f"northstar-artifacts-{stack}", policies.KMS_KEY)
    data_key = _named(mocks, f"northstar-data-{stack}")
    assert artifact_key.type == data_key.type == policies.KMS_KEY
    assert artifact_key.props["enableKeyRotation"] is data_key.props["enableKeyRotation"] is True
    for name, bucket in buckets.items():
        sse = _named(mocks, f"{name}-sse")
        assert sse.props["bucket"] == bucket.id
        default = sse.props["rules"][0]["applyServerSideEncryptionByDefault"]
        assert default["sseAlgorithm"] == "aws:kms"
        # Data and artifacts are encrypted under different keys (Airflow may read artifacts, never data).
        expected_key = artifact_key if "artifacts" in name else data_key
        assert default["kmsMasterKeyId"] == expected_key.props["arn"], name
        versioning = _named(mocks, f"{name}-versioning")
        assert versioning.props["versioningConfiguration"]["status"] == "Enabled"
        pab = _named(mocks, f"{name}-public-access-block")
        assert pab.props["bucket"] == bucket.id
        assert all(pab.props[flag] is True for flag in policies.PUBLIC_ACCESS_FLAGS)
    (lifecycle,) = _of_type(mocks, LIFECYCLE)  # only raw expires; bronze keeps history
    assert lifecycle.props["bucket"] == buckets[f"northstar-raw-{stack}"].id
    assert lifecycle.props["rules"][0]["expiration"]["days"] == _sizing(stack)["rawRetentionDays"]


def test_mandatory_tags_on_every_taggable_resource(stack_run: tuple[str, RecordingMocks]) -> None:
    stack, mocks = stack_run
    taggable = [r for r in mocks.resources if r.type in policies.TAGGABLE_TYPES]
    kinds = {r.type for r in taggable}
    assert {policies.BUCKET, policies.KMS_KEY, policies.SECRET, policies.IAM_ROLE, policies.EMR_SERVERLESS_APP,
            policies.MWAA_ENVIRONMENT, policies.SSM_PARAMETER} <= kinds
    assert len(taggable) >= 15
    for resource in taggable:
        assert resource.props["tags"] == {
            "environment": stack,
            "owner": "data-platform",
            "cost-center": "cc-4100-data",
            "managed-by": "pulumi",
        }, resource.name


def test_artifact_version_map_published_from_config(stack_run: tuple[str, RecordingMocks]) -> None:
    stack, mocks = stack_run
    (param,) = (p for p in _of_type(mocks, policies.SSM_PARAMETER) if p.props["name"].endswith("/artifact-versions"))
    assert param.props["name"] == f"/northstar/{stack}/artifact-versions"
    expected = json.loads(load_stack_config(stack)["northstar:artifactVersions"])
    assert json.loads(param.props["value"]) == expected
    assert set(expected) == {"dbt", "airflow-dags", "spark-daily-revenue"}


def test_capacity_follows_the_stack_sizing(stack_run: tuple[str, RecordingMocks]) -> None:
    stack, mocks = stack_run
    sizing = _sizing(stack)
    (app,) = _of_type(mocks, policies.EMR_SERVERLESS_APP)
    assert app.props["maximumCapacity"] == {"cpu": f"{sizing['emrMaxVcpu']} vCPU", "memory": f"{sizing['emrMaxMemoryGb']} GB"}
    assert app.props["autoStopConfiguration"] == {"enabled": True, "idleTimeoutMinutes": sizing["emrIdleTimeoutMinutes"]}
    assert app.props["releaseLabel"].startswith("emr-7.")  # Spark 3.5, like the jobs' pyspark
    (airflow,) = _of_type(mocks, policies.MWAA_ENVIRONMENT)
    assert (airflow.props["environmentClass"], airflow.props["minWorkers"], airflow.props["maxWorkers"]) == (
        sizing["mwaaEnvironmentClass"], sizing["mwaaMinWorkers"], sizing["mwaaMaxWorkers"])
    assert airflow.props["webserverAccessMode"] == "PRIVATE_ONLY"
    assert airflow.props["sourceBucketArn"] == _named(mocks, f"northstar-artifacts-{stack}", policies.BUCKET).props["arn"]
    clusters = _of_type(mocks, policies.MSK_CLUSTER)
    bootstrap = _named(mocks, f"northstar-kafka-bootstrap-{stack}")
    assert bootstrap.props["name"] == f"/northstar/{stack}/kafka/bootstrap-servers"
    if sizing["kafkaMode"] == "external":
        assert clusters == []
        assert bootstrap.props["value"] == load_stack_config(stack)["northstar:kafkaBootstrapServers"]
    else:
        (cluster,) = clusters
        assert cluster.props["numberOfBrokerNodes"] == sizing["kafkaBrokers"]
        group = cluster.props["brokerNodeGroupInfo"]
        assert group["instanceType"] == sizing["kafkaInstanceType"]
        assert group["storageInfo"]["ebsStorageInfo"]["volumeSize"] == sizing["kafkaVolumeGb"]
        assert cluster.props["encryptionInfo"]["encryptionAtRestKmsKeyArn"] == _named(mocks, f"northstar-data-{stack}").props["arn"]
        assert cluster.props["clientAuthentication"]["sasl"]["iam"] is True


def test_sizes_grow_from_dev_to_prod() -> None:
    dev, staging, prod = (_sizing(s) for s in ("dev", "staging", "prod"))
    for key in ("emrMaxVcpu", "emrMaxMemoryGb", "mwaaMaxWorkers", "rawRetentionDays"):
        assert dev[key] < staging[key] < prod[key], key
    assert (dev["kafkaMode"], staging["kafkaMode"], prod["kafkaMode"]) == ("external", "msk", "msk")


def _statements(mocks: RecordingMocks, name: str) -> dict[str, dict[str, Any]]:
    policy = json.loads(_named(mocks, f"{name}-policy").props["policy"])
    return {st["Sid"]: st for st in policy["Statement"]}


def test_roles_are_least_privilege(stack_run: tuple[str, RecordingMocks]) -> None:
    stack, mocks = stack_run
    arn = {name: _named(mocks, f"northstar-{name}-{stack}", policies.BUCKET).props["arn"] for name in ("raw", "bronze", "artifacts")}
    arn["data"] = _named(mocks, f"northstar-data-{stack}", policies.KMS_KEY).props["arn"]
    spark = _statements(mocks, f"northstar-spark-jobs-{stack}")
    assert spark["ReadRaw"]["Action"] == ["s3:GetObject", "s3:ListBucket"]  # Spark cannot modify landed files
    assert spark["ReadRaw"]["Resource"] == [arn["raw"], arn["raw"] + "/*"]
    assert "s3:PutObject" in spark["WriteBronze"]["Action"] and spark["WriteBronze"]["Resource"][0] == arn["bronze"]
    assert spark["DataKey"]["Resource"] == [arn["data"]]
    assert ("ReadTopics" in spark) == (_sizing(stack)["kafkaMode"] == "msk")
    airflow = _statements(mocks, f"northstar-airflow-{stack}")
    assert airflow["PassSparkRoleOnly"]["Resource"] == [_named(mocks, f"northstar-spark-jobs-{stack}").props["arn"]]
    everything = json.dumps(airflow)
    assert arn["data"] not in everything and arn["raw"] not in everything  # Airflow never touches data
    secrets = {s.props["name"]: s for s in _of_type(mocks, policies.SECRET)}
    assert spark["SourceCredentials"]["Resource"] == [
        secrets[f"northstar/{stack}/retail-oltp-replication"].props["arn"],
        secrets[f"northstar/{stack}/finance-erp-readonly"].props["arn"],
    ]


def test_secrets_are_references_without_values(stack_run: tuple[str, RecordingMocks]) -> None:
    stack, mocks = stack_run
    secrets = _of_type(mocks, policies.SECRET)
    assert sorted(s.props["name"] for s in secrets) == sorted(
        f"northstar/{stack}/{n}" for n in ("retail-oltp-replication", "finance-erp-readonly", "snowflake-loader", "schema-registry"))
    assert all(s.props["kmsKeyId"] for s in secrets)
    assert _of_type(mocks, policies.SECRET_VERSION) == []
    assert not any("secretString" in r.props for r in mocks.resources)


def test_declared_stack_passes_all_policies(stack_run: tuple[str, RecordingMocks]) -> None:
    _, mocks = stack_run
    assert policies.validate_stack(mocks.resources) == []


def test_unknown_environment_is_rejected(stack_runner: Callable[..., RecordingMocks]) -> None:
    config = load_stack_config("dev") | {"northstar:environment": "qa"}
    with pytest.raises(Exception, match="northstar:environment must be one of"):
        stack_runner("qa", config)


@pytest.mark.parametrize(
    ("stack", "key", "value", "message"),
    [
        ("dev", "northstar:sizing", {"emrMaxVcpu": 16}, "northstar:sizing.kafkaMode must be one of"),
        ("staging", "northstar:sizing", ["mw1.small"], "northstar:sizing is required: a mapping"),
        ("staging", "northstar:sizing", "emrMaxVcpu=8", "northstar:sizing' value .* is not a valid"),
        ("prod", "northstar:network",
         {"vpcId": "vpc-1", "subnetIds": ["subnet-a", "subnet-b", "subnet-c", "subnet-d"], "securityGroupIds": ["sg-1"]},
         r"northstar:sizing.kafkaBrokers \(6\) must be a multiple of the 4 subnets"),
        ("prod", "northstar:network", {"vpcId": "main", "subnetIds": [], "securityGroupIds": []}, "northstar:network.vpcId"),
    ],
)
def test_bad_sizing_or_network_is_rejected_with_the_key(
    stack_runner: Callable[..., RecordingMocks], stack: str, key: str, value: Any, message: str
) -> None:
    config = load_stack_config(stack) | {key: value if isinstance(value, str) else json.dumps(value)}
    with pytest.raises(Exception, match=message):
        stack_runner(stack, config)
