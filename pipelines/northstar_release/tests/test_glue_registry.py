"""The Glue implementation of ``SchemaRegistry`` against moto in server mode (a real HTTP endpoint on localhost).

boto3 and moto[server] are in the ``tools`` resolve (the target depends on them explicitly: boto3 is imported lazily).
moto lacks DeleteSchemaVersions, so deletion (rollback on Glue) is not covered here.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from northstar_release import gitutil
from northstar_release.adapters.base import BuildContext, CheckRequest, EnvContext, SwitchRequest, VerifyRequest
from northstar_release.adapters.event_schemas import ARTIFACT_NAME, KIND, EventSchemasAdapter
from northstar_release.artifact_store import LocalArtifactStore
from northstar_release.event_schemas.bundle import fingerprint, normalise
from northstar_release.event_schemas.glue import GlueSchemaRegistry
from northstar_release.model import GateOutcome
from northstar_release.tests.fixtures_engine import FakeRunner
from northstar_release.tests.helpers import REPO, commit, make_repo

ORDERS_REL = "pipelines/catalog/schemas/orders.order_events.v1/v1.avsc"
ORDERS = REPO / ORDERS_REL


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture
def glue(endpoint: str) -> Any:
    import boto3  # pants: no-infer-dep

    return boto3.client("glue", region_name="eu-west-1", endpoint_url=endpoint, aws_access_key_id="testing",
                        aws_secret_access_key="testing")


def test_register_is_idempotent_and_versions_read_back(glue: Any) -> None:
    registry = GlueSchemaRegistry("northstar-dev", client=glue)
    subject = "orders.order_events.v1-value"
    assert registry.versions(subject) == []
    v1 = normalise(ORDERS.read_text(), str(ORDERS))
    doc = json.loads(v1)
    v2 = normalise(json.dumps({**doc, "fields": [f for f in doc["fields"] if f["name"] != "channel"]}), "v2")
    first = registry.register([(subject, v1), (subject, v2)])
    assert [(r.version, r.fingerprint) for r in first] == [(1, fingerprint(v1)), (2, fingerprint(v2))]
    again = registry.register([(subject, v1), (subject, v2)])  # same schemas: the same versions, nothing new
    assert [r.version for r in again] == [1, 2]
    listed = registry.versions(subject)
    assert [(v.version, v.fingerprint, v.schema) for v in listed] == [(1, fingerprint(v1), v1), (2, fingerprint(v2), v2)]
    assert glue.get_schema(SchemaId={"RegistryName": "northstar-dev", "SchemaName": subject})["DataFormat"] == "AVRO"


def test_the_adapter_registers_checks_and_verifies_through_glue(endpoint: str, tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """NORTHSTAR_SCHEMA_REGISTRY=glue:<prefix>: the kind's deploy, gate check and verify against the Glue API."""
    for key, value in {"NORTHSTAR_SCHEMA_REGISTRY": "glue:northstar", "AWS_ENDPOINT_URL": endpoint,
                       "AWS_DEFAULT_REGION": "eu-west-1", "AWS_ACCESS_KEY_ID": "testing",
                       "AWS_SECRET_ACCESS_KEY": "testing"}.items():
        monkeypatch.setenv(key, value)
    repo = make_repo(tmp_path)
    shutil.copytree(REPO / "pipelines/catalog/schemas", repo / "pipelines/catalog/schemas")
    commit(repo, "schemas")
    store = LocalArtifactStore(tmp_path / "artifacts")
    env = EnvContext(env="staging", env_dir=tmp_path / "envs" / "staging",
                     artifact_path=lambda a: store.path_for(a.sha256), runner=FakeRunner())
    adapter, v1, artifacts = EventSchemasAdapter(), json.loads(ORDERS.read_text()), []
    promo: dict[str, Any] = {"name": "promo_code", "type": "string"}
    for i, doc in enumerate((v1, {**v1, "fields": [*v1["fields"], {**promo, "default": ""}]},
                             {**v1, "fields": [*v1["fields"], promo]})):
        if i:  # v2 adds promo_code with a default, v3 drops the default: fine for v2, not for v1
            (repo / ORDERS_REL).write_text(json.dumps(doc))
            commit(repo, f"v{i + 1}")
        (tmp_path / f"w{i}").mkdir()
        ctx = BuildContext(repo, gitutil.commit_info(repo).sha, "rel", tmp_path / f"w{i}")
        artifacts.append(store.put(adapter.package(ctx)[0], KIND, ARTIFACT_NAME))
    for artifact in artifacts[:2]:
        assert adapter.check(CheckRequest(artifact=artifact, env=env)).outcome == GateOutcome.PASSED
        adapter.switch(SwitchRequest(artifact=artifact, env=env))
    assert [v.version for v in GlueSchemaRegistry("northstar-staging").versions("orders.order_events.v1-value")] == [1, 2]
    assert adapter.verify(VerifyRequest(env=env)).outcome == GateOutcome.PASSED
    blocked = adapter.check(CheckRequest(artifact=artifacts[2], env=env))
    assert blocked.outcome == GateOutcome.FAILED and "registered version 1 " in blocked.summary
