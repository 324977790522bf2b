"""The Glue implementation of ``SchemaRegistry`` against moto in server mode (a real HTTP endpoint on localhost).

Needs boto3 and moto[server], which are not in the ``tools`` resolve yet: the Pants target is skipped until they are
(pipelines/BUILD); run it with a Python that has them. moto lacks DeleteSchemaVersions, so deletion (rollback on Glue)
is not covered here.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from northstar_release.event_schemas.bundle import fingerprint, normalise
from northstar_release.event_schemas.glue import GlueSchemaRegistry

ORDERS = Path(__file__).resolve().parents[3] / "pipelines/catalog/schemas/orders.order_events.v1/v1.avsc"


@pytest.fixture(scope="module")
def glue() -> Iterator[Any]:
    boto3 = pytest.importorskip("boto3")
    server_mod = pytest.importorskip("moto.server")
    server = server_mod.ThreadedMotoServer(ip_address="127.0.0.1", port=0)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield boto3.client("glue", region_name="eu-west-1", endpoint_url=f"http://{host}:{port}",
                           aws_access_key_id="testing", aws_secret_access_key="testing")
    finally:
        server.stop()


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
