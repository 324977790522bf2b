"""What the stack declares, per environment, checked offline under Pulumi mocks."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from northstar_infra import policies
from northstar_infra.tests.conftest import RecordingMocks, load_stack_config


def _of_type(mocks: RecordingMocks, type_token: str) -> list[policies.Resource]:
    return [r for r in mocks.resources if r.type == type_token]


def test_bucket_is_kms_encrypted_versioned_and_private(stack_run: tuple[str, RecordingMocks]) -> None:
    stack, mocks = stack_run
    (bucket,) = _of_type(mocks, policies.BUCKET)
    (key,) = _of_type(mocks, policies.KMS_KEY)
    assert bucket.name == f"northstar-artifacts-{stack}"
    assert key.props["enableKeyRotation"] is True

    (sse,) = _of_type(mocks, policies.SSE_CONFIG)
    assert sse.props["bucket"] == bucket.id
    default = sse.props["rules"][0]["applyServerSideEncryptionByDefault"]
    assert default["sseAlgorithm"] == "aws:kms"
    assert default["kmsMasterKeyId"] == key.props["arn"]

    (versioning,) = _of_type(mocks, "aws:s3/bucketVersioning:BucketVersioning")
    assert versioning.props["bucket"] == bucket.id
    assert versioning.props["versioningConfiguration"]["status"] == "Enabled"

    (pab,) = _of_type(mocks, policies.PUBLIC_ACCESS_BLOCK)
    assert pab.props["bucket"] == bucket.id
    assert {flag: pab.props[flag] for flag in policies.PUBLIC_ACCESS_FLAGS} == dict.fromkeys(
        policies.PUBLIC_ACCESS_FLAGS, True
    )


def test_mandatory_tags_on_every_taggable_resource(stack_run: tuple[str, RecordingMocks]) -> None:
    stack, mocks = stack_run
    taggable = [r for r in mocks.resources if r.type in policies.TAGGABLE_TYPES]
    assert len(taggable) == 3
    for resource in taggable:
        assert resource.props["tags"] == {
            "environment": stack,
            "owner": "data-platform",
            "cost-center": "cc-4100-data",
            "managed-by": "pulumi",
        }, resource.name


def test_artifact_version_map_published_from_config(stack_run: tuple[str, RecordingMocks]) -> None:
    stack, mocks = stack_run
    (param,) = _of_type(mocks, policies.SSM_PARAMETER)
    assert param.props["name"] == f"/northstar/{stack}/artifact-versions"
    expected = json.loads(load_stack_config(stack)["northstar:artifactVersions"])
    assert json.loads(param.props["value"]) == expected
    assert set(expected) == {"dbt", "airflow-dags", "spark-daily-revenue"}


def test_declared_stack_passes_all_policies(stack_run: tuple[str, RecordingMocks]) -> None:
    _, mocks = stack_run
    assert policies.validate_stack(mocks.resources) == []


def test_unknown_environment_is_rejected(stack_runner: Callable[..., RecordingMocks]) -> None:
    config = load_stack_config("dev") | {"northstar:environment": "qa"}
    with pytest.raises(Exception, match="northstar:environment must be one of"):
        stack_runner("qa", config)
