"""The environment's schema registry: the protocol, and the local implementation kept in the env's release state.

Why a protocol: deploy registers versions and rollback removes them the same way whether the registry is a file in
the env's state dir (the ``local`` backend, and tests) or AWS Glue Schema Registry (``glue.py``). Semantics follow
Confluent's: versions of a subject are numbered 1, 2, ... and never reused; registering a schema a subject already
holds returns that version (idempotent, so a re-run deploy is a no-op); deleting a version removes it from the set the
compatibility check sees. The registry does not judge compatibility itself: the ``schema_compat`` gate and the
adapter's switch do, before anything is registered.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from northstar_release.errors import UsageError
from northstar_release.event_schemas.bundle import fingerprint
from northstar_release.fsutil import atomic_write

LOCAL_FORMAT = "northstar.local_schema_registry/1"
REGISTRY_ENV_VAR = "NORTHSTAR_SCHEMA_REGISTRY"  # unset/"local": the env's state dir; "glue:<prefix>": AWS Glue


@dataclass(frozen=True)
class RegisteredVersion:
    subject: str
    version: int
    fingerprint: str  # sha256 of the normalised schema text
    schema: str


class SchemaRegistry(Protocol):
    def versions(self, subject: str) -> list[RegisteredVersion]:
        """The subject's live versions, ascending ([] for an unknown subject)."""
        ...

    def register(self, items: Sequence[tuple[str, str]]) -> list[RegisteredVersion]:
        """Register ``(subject, normalised schema)`` pairs in order; an already registered schema returns its version."""
        ...

    def delete(self, items: Sequence[tuple[str, int]]) -> None:
        """Remove ``(subject, version)`` pairs (rollback and clear); unknown pairs are ignored."""
        ...

    def subjects(self) -> list[str]:
        """Every subject holding a version, when the registry enumerates them; [] when it does not (Glue), and the
        adapter then compares and restores only the subjects ``live.json`` names."""
        ...


class LocalSchemaRegistry:
    """One JSON file per env (``<env_dir>/event-schemas/registry.json``), rewritten atomically per batch, so a crash
    leaves the old or the new set of versions, never half a batch."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def _load(self) -> dict[str, Any]:
        if not self.path.is_file():
            return {"format": LOCAL_FORMAT, "subjects": {}}
        doc: dict[str, Any] = json.loads(self.path.read_text())
        if doc.get("format") != LOCAL_FORMAT:
            raise ValueError(f"{self.path}: not a local schema registry ({LOCAL_FORMAT})")
        return doc

    def _save(self, doc: dict[str, Any]) -> None:
        atomic_write(self.path, (json.dumps(doc, indent=2, sort_keys=True) + "\n").encode())

    def versions(self, subject: str) -> list[RegisteredVersion]:
        body = self._load()["subjects"].get(subject) or {"versions": []}
        return [RegisteredVersion(subject, int(v["version"]), v["fingerprint"], v["schema"]) for v in body["versions"]]

    def subjects(self) -> list[str]:
        return sorted(s for s, body in self._load()["subjects"].items() if body["versions"])

    def register(self, items: Sequence[tuple[str, str]]) -> list[RegisteredVersion]:
        doc, out, changed = self._load(), [], False
        for subject, schema in items:
            body = doc["subjects"].setdefault(subject, {"next_version": 1, "versions": []})
            digest = fingerprint(schema)
            hit = next((v for v in body["versions"] if v["fingerprint"] == digest), None)
            if hit is None:
                hit = {"version": body["next_version"], "fingerprint": digest, "schema": schema}
                body["versions"].append(hit)
                body["next_version"] += 1
                changed = True
            out.append(RegisteredVersion(subject, int(hit["version"]), digest, schema))
        if changed:
            self._save(doc)
        return out

    def delete(self, items: Sequence[tuple[str, int]]) -> None:
        doc, changed = self._load(), False
        for subject, version in items:
            body = doc["subjects"].get(subject)
            if body is None:
                continue
            kept = [v for v in body["versions"] if int(v["version"]) != version]
            changed |= len(kept) != len(body["versions"])
            body["versions"] = kept
        if changed:
            self._save(doc)


def registry_for(env: str, env_dir: Path) -> SchemaRegistry:
    """The env's registry: local unless ``NORTHSTAR_SCHEMA_REGISTRY=glue:<prefix>`` (registry ``<prefix>-<env>``)."""
    spec = os.environ.get(REGISTRY_ENV_VAR, "local")
    if spec == "local":
        return LocalSchemaRegistry(env_dir / "event-schemas" / "registry.json")
    if spec.startswith("glue:") and spec[len("glue:"):]:
        from northstar_release.event_schemas.glue import GlueSchemaRegistry

        return GlueSchemaRegistry(f"{spec[len('glue:'):]}-{env}")
    raise UsageError(f"{REGISTRY_ENV_VAR}={spec!r} names no schema registry",
                     [f"{REGISTRY_ENV_VAR}: [registry] 'local' (default) or 'glue:<registry name prefix>'"])
