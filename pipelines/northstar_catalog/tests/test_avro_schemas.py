"""Avro schemas of the Kafka topics: parse with the avro library, match sources.yaml, and carry generated events."""

from __future__ import annotations

import io
import json
import re
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import avro.io
import avro.schema
import pytest
import yaml
from avro.compatibility import ReaderWriterCompatibilityChecker, SchemaCompatibilityType

from northstar_synthetic import Config, generate

SOURCES = yaml.safe_load(Path("pipelines/catalog/sources.yaml").read_text())["systems"]["kafka"]["tables"]
SCHEMAS = Path("pipelines/catalog/schemas")


def _logical(field_type: object) -> str:
    """Avro field type -> sources.yaml logical type."""
    if isinstance(field_type, list):
        return _logical(next(t for t in field_type if t != "null"))
    if isinstance(field_type, dict):
        lt = field_type.get("logicalType")
        if lt == "decimal":
            return f"decimal({field_type['precision']},{field_type['scale']})"
        return {"timestamp-millis": "timestamp", "date": "date"}[str(lt)]
    return {"long": "bigint", "int": "int", "string": "varchar", "boolean": "boolean"}[str(field_type)]


def test_one_v1_schema_per_topic() -> None:
    assert sorted(p.parent.name for p in SCHEMAS.glob("*/v1.avsc")) == sorted(t["topic"] for t in SOURCES.values())


@pytest.mark.parametrize("table", sorted(SOURCES))
def test_schema_parses_and_matches_sources_yaml(table: str) -> None:
    text = (SCHEMAS / SOURCES[table]["topic"] / "v1.avsc").read_text()
    avro.schema.parse(text)  # raises on any invalid schema
    fields = json.loads(text)["fields"]
    assert [(f["name"], _logical(f["type"])) for f in fields] == list(SOURCES[table]["columns"].items())
    pk = SOURCES[table]["pk"]
    assert not isinstance(next(f for f in fields if f["name"] == pk)["type"], list), "the key is never nullable"


def _avro_value(value: object, column_type: str) -> object:
    if isinstance(value, Decimal):
        scale = int(re.fullmatch(r"decimal\(\d+,(\d+)\)", column_type).group(1))  # type: ignore[union-attr]
        return value.quantize(Decimal(1).scaleb(-scale))
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC)
    return value


@pytest.mark.parametrize("table", sorted(SOURCES))
def test_generated_events_round_trip_through_the_schema(table: str) -> None:
    schema = avro.schema.parse((SCHEMAS / SOURCES[table]["topic"] / "v1.avsc").read_text())
    data = generate(Config(seed=9, orders=120, days=1))
    rows = data.rows(f"kafka__{table}")[:200]
    assert rows
    types = SOURCES[table]["columns"]
    buf = io.BytesIO()
    writer = avro.io.DatumWriter(schema)
    encoder = avro.io.BinaryEncoder(buf)
    records = [{k: _avro_value(v, types[k]) for k, v in row.items()} for row in rows]
    for record in records:
        writer.write(record, encoder)
    buf.seek(0)
    reader, decoder = avro.io.DatumReader(schema), avro.io.BinaryDecoder(buf)
    decoded = [reader.read(decoder) for _ in records]
    assert decoded == records


def test_dropping_a_required_field_breaks_readers() -> None:
    """The compatibility check the gates will run: a writer without event_at cannot feed a v1 reader."""
    v1 = json.loads((SCHEMAS / "orders.order_events.v1" / "v1.avsc").read_text())
    v2 = {**v1, "fields": [f for f in v1["fields"] if f["name"] != "event_at"]}
    result = ReaderWriterCompatibilityChecker().get_compatibility(avro.schema.parse(json.dumps(v1)), avro.schema.parse(json.dumps(v2)))
    assert result.compatibility == SchemaCompatibilityType.incompatible
    same = ReaderWriterCompatibilityChecker().get_compatibility(avro.schema.parse(json.dumps(v1)), avro.schema.parse(json.dumps(v1)))
    assert same.compatibility == SchemaCompatibilityType.compatible
