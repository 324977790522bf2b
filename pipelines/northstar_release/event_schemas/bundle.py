"""Package the Avro schemas of the Kafka topics from one commit into one deterministic document.

Layout read at the commit: ``pipelines/catalog/schemas/<topic>/v<N>.avsc`` (subject ``<topic>-value``, the catalog's
TopicNameStrategy; versions in ascending ``N``), each Kafka table's optional ``compatibility`` in
``pipelines/catalog/sources.yaml`` (default BACKWARD_TRANSITIVE) and the topic's consumers (``consumers.py``).
Why normalised JSON and a sha256 per schema: the artifact's bytes, and so its digest, depend on that content only
(not on formatting, the commit or the release), and the fingerprint is how a registry recognises a schema it already
holds (registering it again is a no-op).
Bad input names the file: a file that is not valid JSON, not a valid Avro schema, or not named ``v<N>.avsc``.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import avro.errors
import avro.schema

from northstar_release import gitutil, strict_yaml
from northstar_release.errors import UsageError
from northstar_release.event_schemas.compat import DEFAULT_MODE, Mode
from northstar_release.event_schemas.consumers import Consumer, consumers_at

SCHEMAS_DIR = "pipelines/catalog/schemas"
SOURCES_FILE = "pipelines/catalog/sources.yaml"
FORMAT = "northstar.event_schemas/1"
SCHEMA_FILE = re.compile(r"^v([1-9][0-9]*)\.avsc$")


@dataclass(frozen=True)
class SchemaFile:
    path: str  # repo-relative file at the commit
    fingerprint: str  # sha256 of ``text``
    text: str  # normalised JSON (sorted keys, compact): what is registered


@dataclass(frozen=True)
class Subject:
    name: str  # <topic>-value
    topic: str
    mode: Mode
    versions: tuple[SchemaFile, ...]  # ascending v<N>
    consumers: tuple[Consumer, ...] = ()  # the Spark jobs that read the topic (consumers.py)


def normalise(text: str, path: str) -> str:
    """Valid JSON and a valid Avro schema, re-serialised canonically; UsageError naming ``path`` otherwise."""
    try:
        doc = json.loads(text)
    except ValueError as exc:
        raise UsageError(f"{path}: not valid JSON: {exc}",
                         [f"{path}: [avro-schema] fix the JSON syntax, then build again"]) from None
    try:
        avro.schema.parse(json.dumps(doc))
    except (avro.errors.AvroException, TypeError, ValueError) as exc:
        raise UsageError(f"{path}: not a valid Avro schema: {exc}",
                         [f"{path}: [avro-schema] the avro library refuses it: {exc}"]) from None
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def fingerprint(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def sources_at(repo: Path, commit: str) -> dict[str, Any]:
    """sources.yaml at ``commit`` (strict YAML: duplicate keys are an error naming the line); {} when absent."""
    entries = gitutil.list_tree(repo, commit, SOURCES_FILE)
    if not entries:
        return {}
    doc = strict_yaml.loads(gitutil.read_blob(repo, entries[0][1]), SOURCES_FILE, "source catalog") or {}
    return doc if isinstance(doc, dict) else {}


def modes_of(doc: dict[str, Any]) -> dict[str, Mode]:
    """topic -> compatibility mode, from the Kafka tables of sources.yaml."""
    modes: dict[str, Mode] = {}
    for system in (doc.get("systems") or {}).values():
        if not isinstance(system, dict) or system.get("kind") != "kafka":
            continue
        for name, table in (system.get("tables") or {}).items():
            if not isinstance(table, dict) or "topic" not in table:
                continue
            raw = table.get("compatibility", DEFAULT_MODE.value)
            try:
                modes[str(table["topic"])] = Mode(raw)
            except ValueError:
                raise UsageError(
                    f"{SOURCES_FILE}: kafka table '{name}': compatibility {raw!r} is not a schema compatibility mode",
                    [f"{SOURCES_FILE}: kafka.tables.{name}.compatibility: [mode] one of "
                     f"{', '.join(m.value for m in Mode)}"]) from None
    return modes


def subjects_at(repo: Path, commit: str) -> list[Subject]:
    """Every subject with its schema versions at ``commit``, sorted by subject name; [] without a schemas folder."""
    sources = sources_at(repo, commit)
    modes, consumers = modes_of(sources), consumers_at(repo, commit, sources)
    by_topic: dict[str, list[tuple[int, SchemaFile]]] = {}
    for path, oid in gitutil.list_tree(repo, commit, SCHEMAS_DIR):
        rel = path[len(SCHEMAS_DIR) + 1:]
        topic, _, name = rel.partition("/")
        if not path.endswith(".avsc"):
            continue  # READMEs and the like
        match = SCHEMA_FILE.match(name)
        if match is None or "/" in name:
            raise UsageError(f"{path}: schema files are {SCHEMAS_DIR}/<topic>/v<N>.avsc",
                             [f"{path}: [avro-schema] rename it to {SCHEMAS_DIR}/<topic>/v<N>.avsc"])
        blob = gitutil.read_blob(repo, oid)
        try:
            text = normalise(blob.decode("utf-8"), path)
        except UnicodeDecodeError:
            raise UsageError(f"{path}: not UTF-8", [f"{path}: [avro-schema] save it as UTF-8"]) from None
        by_topic.setdefault(topic, []).append((int(match.group(1)), SchemaFile(path, fingerprint(text), text)))
    return [Subject(name=f"{topic}-value", topic=topic, mode=modes.get(topic, DEFAULT_MODE),
                    versions=tuple(f for _, f in sorted(files)), consumers=tuple(consumers.get(topic, ())))
            for topic, files in sorted(by_topic.items())]


def serialize(subjects: list[Subject]) -> bytes:
    """The artifact: subjects, their mode and versions; sorted keys, no commit or release id (content only)."""
    doc: dict[str, Any] = {"format": FORMAT, "subjects": {
        s.name: {"topic": s.topic, "compatibility": s.mode.value,
                 "versions": [{"file": f.path, "fingerprint": f.fingerprint, "schema": f.text} for f in s.versions],
                 "consumers": [{"pipeline": c.pipeline, "spark_job": c.spark_job, "columns": [list(x) for x in c.columns]}
                               for c in s.consumers]}
        for s in subjects}}
    return (json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=True) + "\n").encode()


def deserialize(blob: bytes, what: str) -> list[Subject]:
    doc = json.loads(blob)
    if doc.get("format") != FORMAT:
        raise UsageError(f"{what} is not an event schema bundle ({FORMAT})")
    return [Subject(name=name, topic=body["topic"], mode=Mode(body["compatibility"]),
                    versions=tuple(SchemaFile(v["file"], v["fingerprint"], v["schema"]) for v in body["versions"]),
                    consumers=tuple(Consumer(c["pipeline"], c["spark_job"], tuple((n, t) for n, t in c["columns"]))
                                    for c in body.get("consumers", [])))
            for name, body in sorted(doc["subjects"].items())]
