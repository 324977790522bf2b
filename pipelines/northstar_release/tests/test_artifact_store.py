"""Local content-addressed, write-once artifact store."""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path

import pytest

from northstar_release.artifact_store import (
    ArtifactCorrupted,
    ArtifactNotFound,
    ArtifactStoreError,
    LocalArtifactStore,
)
from northstar_release.model import ArtifactKind

DATA = b"dag bundle bytes\n" * 1000
DIGEST = hashlib.sha256(DATA).hexdigest()


def test_put_bytes(tmp_path: Path) -> None:
    store = LocalArtifactStore(tmp_path / "artifacts")
    artifact = store.put(DATA, ArtifactKind.DAG_BUNDLE, "dags", source_targets=["dags:bundle"])
    blob = tmp_path / "artifacts" / "sha256" / DIGEST[:2] / DIGEST
    assert (artifact.sha256, artifact.size, artifact.kind, artifact.name) == (DIGEST, len(DATA), ArtifactKind.DAG_BUNDLE, "dags")
    assert artifact.uri == f"file://{blob}"
    assert artifact.source_targets == ("dags:bundle",)
    assert blob.read_bytes() == DATA
    assert stat.S_IMODE(blob.stat().st_mode) == 0o444
    assert [p.name for p in blob.parent.iterdir()] == [DIGEST]  # no temp files left behind


def test_put_path_matches_put_bytes(tmp_path: Path) -> None:
    source = tmp_path / "bundle.tar"
    source.write_bytes(DATA)
    store = LocalArtifactStore(tmp_path / "artifacts")
    by_path = store.put(source, "dag_bundle", "dags")
    assert by_path == store.put(DATA, "dag_bundle", "dags")
    assert store.path_for(DIGEST).read_bytes() == DATA


def test_existing_digest_is_verified_not_rewritten(tmp_path: Path) -> None:
    store = LocalArtifactStore(tmp_path)
    store.put(DATA, "spark_job", "orders")
    blob = store.path_for(DIGEST)
    before = blob.stat()
    again = store.put(DATA, "spark_job", "orders-copy")
    after = blob.stat()
    assert (before.st_ino, before.st_mtime_ns) == (after.st_ino, after.st_mtime_ns)
    assert again.name == "orders-copy" and again.sha256 == DIGEST


def test_corruption_is_detected_on_read_and_on_put(tmp_path: Path) -> None:
    store = LocalArtifactStore(tmp_path)
    store.put(DATA, "spark_job", "orders")
    blob = store.blob_path(DIGEST)
    os.chmod(blob, 0o644)
    with open(blob, "r+b") as f:
        f.write(b"X")
    with pytest.raises(ArtifactCorrupted, match=DIGEST):
        store.path_for(DIGEST)
    with pytest.raises(ArtifactCorrupted):
        store.put(DATA, "spark_job", "orders")
    assert blob.read_bytes()[:1] == b"X"  # write-once: never silently repaired


def test_missing_and_invalid_digests(tmp_path: Path) -> None:
    store = LocalArtifactStore(tmp_path)
    with pytest.raises(ArtifactNotFound):
        store.path_for("0" * 64)
    with pytest.raises(ArtifactStoreError, match="not a sha256"):
        store.path_for("../../etc/passwd")
    assert not store.exists("0" * 64)


def test_empty_artifact(tmp_path: Path) -> None:
    artifact = LocalArtifactStore(tmp_path).put(b"", "infra_version_map", "versions")
    assert artifact.size == 0 and artifact.sha256 == hashlib.sha256(b"").hexdigest()


def test_unknown_kind_rejected(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        LocalArtifactStore(tmp_path).put(DATA, "docker_image", "x")
