"""Local content-addressed, write-once artifact store.

Why content addressing: a release names artifacts by sha256, so "what is deployed" is a digest that can be re-checked
at any time, and building the same commit twice stores nothing new. Why write-once: a blob that prod runs must never
change under it; an existing digest is verified and reused, never rewritten, and blobs are made read-only.

Layout: ``<root>/sha256/<first two hex>/<digest>``. Writes go to a temp file in the final directory, are fsynced and
then ``os.replace``d into place, so a crash leaves either no blob or a complete one (plus at most a stray
``.tmp-*`` file), never a truncated blob under a valid name. Reads through ``path_for`` re-hash the blob, so silent
corruption (disk, or someone with root ignoring 0444) is reported instead of deployed.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import BinaryIO

from northstar_release.fsutil import fsync_dir
from northstar_release.model import Artifact, ArtifactKind

_CHUNK = 1024 * 1024
_DIGEST = re.compile(r"^[0-9a-f]{64}$")


class ArtifactStoreError(Exception):
    """Base class for artifact store failures."""


class ArtifactNotFound(ArtifactStoreError):
    pass


class ArtifactCorrupted(ArtifactStoreError):
    """A stored blob no longer hashes to its name. Do not deploy it; investigate the disk, then remove the blob."""


def _sha256_stream(stream: BinaryIO) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    while chunk := stream.read(_CHUNK):
        digest.update(chunk)
        size += len(chunk)
    return digest.hexdigest(), size


def sha256_file(path: Path) -> tuple[str, int]:
    """(hex digest, size) of a file, streamed."""
    with open(path, "rb") as stream:
        return _sha256_stream(stream)


class LocalArtifactStore:
    """Blobs under ``root``; ``put`` returns an ``Artifact`` whose ``uri`` is ``file://<root>/sha256/<aa>/<digest>``."""

    def __init__(self, root: Path | str, kinds: Iterable[str] | None = None) -> None:
        # The kinds this store accepts: the kind registry's unless given (a test or plugin with its own registry).
        if kinds is None:
            from northstar_release.kinds.registry import KINDS

            kinds = KINDS.kinds()
        self.kinds = frozenset(str(k) for k in kinds)
        self.root = Path(root).absolute()

    def blob_path(self, sha256: str) -> Path:
        """Where a digest lives (no existence or integrity check; use ``path_for`` to read)."""
        if not _DIGEST.match(sha256):
            raise ArtifactStoreError(f"not a sha256 hex digest: {sha256!r}")
        return self.root / "sha256" / sha256[:2] / sha256

    def uri_for(self, sha256: str) -> str:
        return self.blob_path(sha256).as_uri()

    def put(
        self,
        source: Path | str | bytes,
        kind: ArtifactKind | str,
        name: str,
        source_targets: Iterable[str] = (),
    ) -> Artifact:
        """Store ``source`` (a file path or the bytes themselves) and describe it as an artifact ``kind``/``name``."""
        if str(kind) not in self.kinds:
            raise ValueError(f"unknown artifact kind {str(kind)!r}: registered kinds are {', '.join(sorted(self.kinds))} "
                             "(kinds/registry.py)")
        if isinstance(source, bytes):
            digest, size = hashlib.sha256(source).hexdigest(), len(source)
        else:
            digest, size = sha256_file(Path(source))
        final = self.blob_path(digest)
        if final.exists():
            self._verify(final, digest)  # reuse, never rewrite
        else:
            self._write(source, final, digest)
        return Artifact(
            kind=ArtifactKind(kind),
            name=name,
            sha256=digest,
            size=size,
            uri=final.as_uri(),
            source_targets=tuple(source_targets),
        )

    def _write(self, source: Path | str | bytes, final: Path, digest: str) -> None:
        final.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=".tmp-", dir=final.parent)
        tmp = Path(tmp_name)
        try:
            hasher = hashlib.sha256()
            with os.fdopen(fd, "wb") as out:
                if isinstance(source, bytes):
                    out.write(source)
                    hasher.update(source)
                else:
                    with open(source, "rb") as stream:
                        while chunk := stream.read(_CHUNK):
                            out.write(chunk)
                            hasher.update(chunk)
                out.flush()
                os.fsync(out.fileno())
            if hasher.hexdigest() != digest:
                # The source file changed between hashing and copying; storing it would break content addressing.
                label = "in-memory bytes" if isinstance(source, bytes) else str(source)
                raise ArtifactStoreError(f"{label} changed while it was being stored; retry the build")
            os.chmod(tmp, 0o444)
            if final.exists():  # a concurrent writer won the race; keep theirs, but make sure it is sound
                self._verify(final, digest)
            else:
                os.replace(tmp, final)
                fsync_dir(final.parent)
        finally:
            tmp.unlink(missing_ok=True)

    def _verify(self, path: Path, digest: str) -> None:
        actual, _ = sha256_file(path)
        if actual != digest:
            raise ArtifactCorrupted(
                f"artifact blob {path} is corrupted: its content hashes to {actual}, not {digest}. "
                "Do not deploy it; check the disk, delete the blob and re-run the build to restore it."
            )

    def path_for(self, sha256: str) -> Path:
        """The verified on-disk path of a digest; raises ``ArtifactNotFound`` / ``ArtifactCorrupted``."""
        path = self.blob_path(sha256)
        if not path.is_file():
            raise ArtifactNotFound(f"artifact {sha256} is not in the store at {self.root}")
        self._verify(path, sha256)
        return path

    def exists(self, sha256: str) -> bool:
        return self.blob_path(sha256).is_file()
