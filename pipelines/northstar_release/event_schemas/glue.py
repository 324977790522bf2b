"""AWS Glue Schema Registry behind the ``SchemaRegistry`` protocol (``NORTHSTAR_SCHEMA_REGISTRY=glue:<prefix>``).

Why Glue's own compatibility is set to NONE: the engine checks every new version against the subject's registered
versions under the catalog's mode (Confluent semantics, the ``avro`` library's checker) *before* registering, the same
way for every backend; Glue's modes (BACKWARD_ALL ...) would be a second, differently implemented verdict.
Glue registers a version asynchronously (status PENDING -> AVAILABLE): ``register`` waits for it, bounded.
Subject = Glue schema name; version numbers are Glue's. ``boto3`` is imported lazily: it is not in the engine's
``tools`` resolve yet, so only an environment configured for Glue needs it (see docs/release.md).

Tested against moto in server mode (moto implements CreateRegistry, CreateSchema, RegisterSchemaVersion,
GetSchema, GetSchemaVersion). moto does NOT implement DeleteSchemaVersions, so ``delete`` -- and with it a rollback
on Glue -- is untested.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from northstar_release.event_schemas.bundle import fingerprint
from northstar_release.event_schemas.registry import RegisteredVersion

PENDING_TIMEOUT_S = 60.0


def _error_code(exc: Exception) -> str:
    response: dict[str, Any] = getattr(exc, "response", None) or {}
    return str(response.get("Error", {}).get("Code", ""))


class GlueSchemaRegistry:
    def __init__(self, registry_name: str, client: Any = None) -> None:
        self.registry_name = registry_name
        self._client = client

    @property
    def client(self) -> Any:
        if self._client is None:
            import boto3  # pants: no-infer-dep

            self._client = boto3.client("glue")
        return self._client

    def _schema_id(self, subject: str) -> dict[str, str]:
        return {"RegistryName": self.registry_name, "SchemaName": subject}

    def _ensure_registry(self) -> None:
        try:
            self.client.get_registry(RegistryId={"RegistryName": self.registry_name})
        except Exception as exc:  # noqa: BLE001 - botocore's ClientError; boto3 is imported lazily
            if _error_code(exc) != "EntityNotFoundException":
                raise
            self.client.create_registry(RegistryName=self.registry_name,
                                        Description="Northstar event schemas (written by the release engine)")

    def versions(self, subject: str) -> list[RegisteredVersion]:
        try:
            latest = int(self.client.get_schema(SchemaId=self._schema_id(subject))["LatestSchemaVersion"])
        except Exception as exc:  # noqa: BLE001
            if _error_code(exc) == "EntityNotFoundException":
                return []
            raise
        out = []
        for number in range(1, latest + 1):  # Glue has ListSchemaVersions, moto does not: read them one by one
            try:
                got = self.client.get_schema_version(SchemaId=self._schema_id(subject),
                                                     SchemaVersionNumber={"VersionNumber": number})
            except Exception as exc:  # noqa: BLE001
                if _error_code(exc) == "EntityNotFoundException":
                    continue  # deleted
                raise
            if got.get("Status", "AVAILABLE") == "AVAILABLE":
                text = str(got["SchemaDefinition"])
                out.append(RegisteredVersion(subject, number, fingerprint(text), text))
        return out

    def subjects(self) -> list[str]:
        """[]: this registry does not enumerate its subjects, so the adapter compares and restores exactly the subjects
        ``live.json`` names. Why not ListSchemas: moto, the Glue the tests run against, does not implement it (an
        enumeration would ship untested), and a restore deletes unrecorded versions of every subject it is given, so
        it must not reach schemas the engine never registered."""
        return []

    def register(self, items: Sequence[tuple[str, str]]) -> list[RegisteredVersion]:
        self._ensure_registry()
        out = []
        for subject, schema in items:
            try:
                got = self.client.register_schema_version(SchemaId=self._schema_id(subject), SchemaDefinition=schema)
            except Exception as exc:  # noqa: BLE001
                if _error_code(exc) != "EntityNotFoundException":
                    raise
                got = self.client.create_schema(RegistryId={"RegistryName": self.registry_name}, SchemaName=subject,
                                                DataFormat="AVRO", Compatibility="NONE", SchemaDefinition=schema)
                got = {"VersionNumber": 1, "Status": got.get("SchemaVersionStatus", "AVAILABLE")}
            number = int(got["VersionNumber"])
            self._wait_available(subject, number, str(got.get("Status", "AVAILABLE")))
            out.append(RegisteredVersion(subject, number, fingerprint(schema), schema))
        return out

    def _wait_available(self, subject: str, number: int, status: str) -> None:
        deadline = time.monotonic() + PENDING_TIMEOUT_S
        while status == "PENDING" and time.monotonic() < deadline:
            time.sleep(0.5)
            status = str(self.client.get_schema_version(SchemaId=self._schema_id(subject),
                                                        SchemaVersionNumber={"VersionNumber": number})["Status"])
        if status != "AVAILABLE":
            raise RuntimeError(f"Glue registry {self.registry_name}: {subject} version {number} is {status}")

    def delete(self, items: Sequence[tuple[str, int]]) -> None:
        by_subject: dict[str, list[int]] = {}
        for subject, number in items:
            by_subject.setdefault(subject, []).append(number)
        for subject, numbers in sorted(by_subject.items()):
            self.client.delete_schema_versions(SchemaId=self._schema_id(subject),
                                               Versions=",".join(str(n) for n in sorted(numbers)))
