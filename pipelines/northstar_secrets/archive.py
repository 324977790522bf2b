"""Scan a built artifact: a tarball (any compression) or a zip (PEX, wheel), including archives nested one level.

Why unpack to disk: detect-secrets scans files by name (its YAML/INI transformers look at the suffix), so members are
extracted into a private temporary folder with tarfile's `data` filter (no absolute paths, no `..`, no links out,
no device files) and size limits, scanned, and the folder is deleted. Findings name `ARCHIVE!member`.
"""

from __future__ import annotations

import hashlib
import tarfile
import tempfile
import zipfile
from collections.abc import MutableSet
from pathlib import Path

from northstar_secrets.scanner import Finding, ScanError, expand, scan_files

MAX_MEMBER_BYTES = 5 * 1024 * 1024
MAX_TOTAL_BYTES = 1024 * 1024 * 1024
NESTED_SUFFIXES = (".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tar.xz", ".zip", ".pex", ".whl", ".jar")


def _unpack(archive: Path, into: Path) -> None:
    total = 0
    try:
        # tar first: an uncompressed tar holding a zip (a PEX) also passes zipfile.is_zipfile
        if tarfile.is_tarfile(archive):
            with tarfile.open(archive) as tf:
                members = []
                for m in tf.getmembers():
                    if m.isfile() and m.size <= MAX_MEMBER_BYTES:
                        total += m.size
                        members.append(m)
                if total > MAX_TOTAL_BYTES:
                    raise ScanError(f"{archive}: more than {MAX_TOTAL_BYTES} bytes unpacked")
                tf.extractall(into, members=members, filter="data")
        elif zipfile.is_zipfile(archive):
            with zipfile.ZipFile(archive) as zf:
                for info in zf.infolist():
                    target = (into / info.filename).resolve()
                    if info.is_dir() or info.file_size > MAX_MEMBER_BYTES or not target.is_relative_to(into.resolve()):
                        continue
                    total += info.file_size
                    if total > MAX_TOTAL_BYTES:
                        raise ScanError(f"{archive}: more than {MAX_TOTAL_BYTES} bytes unpacked")
                    target.parent.mkdir(parents=True, exist_ok=True)
                    target.write_bytes(zf.read(info))
        else:
            raise ScanError(f"{archive}: not a tar or zip archive")
    except (OSError, tarfile.TarError, zipfile.BadZipFile) as exc:
        raise ScanError(f"{archive}: cannot unpack ({type(exc).__name__})") from None


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def scan_archive(archive: Path, baseline: set[tuple[str, str, str]] | None = None, label: str | None = None,
                 depth: int = 1, clean: MutableSet[str] | None = None) -> tuple[list[Finding], int]:
    """Findings inside `archive` (and in archives it contains, `depth` levels down), and the number of files scanned.

    `clean`: sha256 digests of member files already scanned clean under the same rules and baseline. Members with
    such a digest are skipped, and every member scanned without a finding is added -- twenty job PEXes share one
    PEX bootstrap and most dependencies, so only the first pays for them."""
    if not archive.is_file():
        raise ScanError(f"{archive}: no such file")
    label = label or archive.as_posix()
    with tempfile.TemporaryDirectory(prefix="northstar-secrets-") as tmp:
        root = Path(tmp)
        _unpack(archive, root)
        files = expand([root])
        digests = {f: _sha256(f) for f in files} if clean is not None else {}
        todo = [f for f in files if clean is None or digests[f] not in clean]
        rename = {f.relative_to(root).as_posix(): f"{label}!{f.relative_to(root).as_posix()}" for f in files}
        findings = scan_files(todo, root, baseline, rename)
        if clean is not None:
            dirty = {f.file for f in findings}
            for f in todo:
                if rename[f.relative_to(root).as_posix()] not in dirty:
                    clean.add(digests[f])
        scanned = len(todo)
        if depth > 0:
            for f in files:
                if f.name.endswith(NESTED_SUFFIXES) and (zipfile.is_zipfile(f) or tarfile.is_tarfile(f)):
                    inner, count = scan_archive(f, baseline, rename[f.relative_to(root).as_posix()], depth - 1, clean)
                    findings += inner
                    scanned += count
    return findings, scanned
