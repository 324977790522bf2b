"""Schema compatibility with Confluent's semantics, decided by the ``avro`` library's checker.

Why the library and not a hand-written diff: Avro's schema-resolution rules (promotions, defaults, unions, aliases,
named types) are subtle; ``avro.compatibility.ReaderWriterCompatibilityChecker`` implements them (avro >= 1.11).
Modes (Confluent): BACKWARD -- the new schema reads data written with the latest registered one; FORWARD -- the latest
reads data written with the new one; FULL -- both; ``*_TRANSITIVE`` -- against every registered version, not only the
latest; NONE -- no check. The default, BACKWARD_TRANSITIVE, is what lets a consumer replay a topic from the beginning.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any

import avro.schema
from avro.compatibility import ReaderWriterCompatibilityChecker, SchemaCompatibilityType


class Mode(str, Enum):
    NONE = "NONE"
    BACKWARD = "BACKWARD"
    BACKWARD_TRANSITIVE = "BACKWARD_TRANSITIVE"
    FORWARD = "FORWARD"
    FORWARD_TRANSITIVE = "FORWARD_TRANSITIVE"
    FULL = "FULL"
    FULL_TRANSITIVE = "FULL_TRANSITIVE"

    @property
    def transitive(self) -> bool:
        return self.value.endswith("_TRANSITIVE")

    @property
    def backward(self) -> bool:
        return self.value.startswith(("BACKWARD", "FULL"))

    @property
    def forward(self) -> bool:
        return self.value.startswith(("FORWARD", "FULL"))


DEFAULT_MODE = Mode.BACKWARD_TRANSITIVE


@dataclass(frozen=True)
class Existing:
    """A schema already registered (or earlier in the same bundle) that a new one is checked against."""

    label: str  # "version 2" / "v1.avsc of this release"
    text: str


@dataclass(frozen=True)
class Incompatibility:
    against: str  # the Existing.label it breaks
    direction: str  # "backward" (new reads old) or "forward" (old reads new)
    reason: str  # the checker's messages, with the field they concern

    def describe(self) -> str:
        return f"breaks {self.against} ({self.direction}): {self.reason}"


def _field_path(location: str, reader: Any) -> str:
    """Turn the checker's ``/fields/8/type`` into ``field 'channel'`` by walking the reader schema's JSON."""
    names: list[str] = []
    node, parts = reader, [p for p in location.split("/") if p]
    for i, part in enumerate(parts):
        if isinstance(node, dict):
            node = node.get(part)
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
            if i > 0 and parts[i - 1] == "fields" and isinstance(node, dict) and "name" in node:
                names.append(str(node["name"]))
        else:
            break
    where = f"field '{'.'.join(names)}' " if names else ""
    return f"{where}({location})"


def _check(reader_text: str, writer_text: str) -> str | None:
    """None when ``reader`` can read data written with ``writer``; else the checker's reason."""
    checker = ReaderWriterCompatibilityChecker()  # type: ignore[no-untyped-call]  # avro's __init__ lacks hints
    result = checker.get_compatibility(avro.schema.parse(reader_text), avro.schema.parse(writer_text))
    if result.compatibility == SchemaCompatibilityType.compatible:
        return None
    reader = json.loads(reader_text)
    kinds = ", ".join(sorted({t.value for t in result.incompatibilities})) or "incompatible"
    messages = "; ".join(sorted(result.messages))
    locations = ", ".join(_field_path(loc, reader) for loc in sorted(result.locations))
    return f"{kinds}: {messages} at {locations}"


def check(new: str, existing: Sequence[Existing], mode: Mode) -> list[Incompatibility]:
    """Every incompatibility of ``new`` with ``existing`` (oldest first) under ``mode``; [] when compatible."""
    if mode == Mode.NONE or not existing:
        return []
    against = list(existing) if mode.transitive else [existing[-1]]
    found: list[Incompatibility] = []
    for old in against:
        if mode.backward and (reason := _check(new, old.text)) is not None:
            found.append(Incompatibility(old.label, "backward: the new schema cannot read data written with it", reason))
        if mode.forward and (reason := _check(old.text, new)) is not None:
            found.append(Incompatibility(old.label, "forward: it cannot read data written with the new schema", reason))
    return found
