"""Warehouse project files: which files of ``dbt/`` make the artifact, and one read-only extracted copy per digest.

Why shared: every env (and the check gate, in a temp dir) used to extract its own copy, so the first SQLMesh load of
each copy parsed the dbt project from scratch. One copy per digest keeps dbt's ``target/sqlmesh_partial_parse.msgpack``
(and SQLMesh's ``.cache``) between commands and envs, which cuts a load by about a third.

Why read-only: the copy is the artifact's bytes, which every env relies on; its files (0444) and folders (0555) are
not meant to change after extraction. Only ``target/``, ``logs/`` and ``.cache/`` -- what the dbt and SQLMesh loaders
write -- stay writable. Permissions do not stop every writer (root), so ``verify --integrity`` still re-checks each
file against the manifest.
"""

from __future__ import annotations

import os
import shutil
import tarfile
import tempfile
from pathlib import Path

from northstar_release import gitutil
from northstar_release.fsutil import fsync_dir, sha256_file

COMPLETE_MARKER = ".complete"
WRITABLE = frozenset({"target", "logs", ".cache"})  # what dbt / SQLMesh write into a project they load


def extract_shared(blob: Path, sha256: str, root: Path) -> Path:
    """``root/<sha256>``, extracted from ``blob`` if not yet there (verified digest, temp dir + rename, ``.complete``
    marker inside before the rename). Two processes extracting the same digest at once both succeed: the first
    rename wins and the other copy (the same bytes) is discarded."""
    root.mkdir(parents=True, exist_ok=True)
    final = root / sha256
    if (final / COMPLETE_MARKER).exists():
        return final
    digest = sha256_file(blob)
    if digest != sha256:
        raise RuntimeError(f"artifact store blob {blob} has sha256 {digest}, expected {sha256}")
    tmp = Path(tempfile.mkdtemp(prefix=f".{sha256[:12]}.", dir=root))
    try:
        with tarfile.open(blob, "r:gz") as tar:
            tar.extractall(tmp, filter="data")
        (tmp / COMPLETE_MARKER).write_text(sha256 + "\n")
        make_read_only(tmp)
        try:
            os.rename(tmp, final)
        except OSError:
            if not (final / COMPLETE_MARKER).exists():
                raise
    finally:
        if tmp.exists():
            remove_tree(tmp)
    fsync_dir(root)
    return final


def make_read_only(folder: Path) -> None:
    """Files 0444 and folders 0555 below ``folder``, except the loaders' output folders (created here, writable)."""
    for name in WRITABLE:
        (folder / name).mkdir(exist_ok=True)
    for dirpath, dirnames, filenames in os.walk(folder):
        here = Path(dirpath)
        if here == folder:
            dirnames[:] = [d for d in dirnames if d not in WRITABLE]
        for name in filenames:
            (here / name).chmod(0o444)
        here.chmod(0o755 if here == folder else 0o555)


def remove_tree(folder: Path) -> None:
    """Remove an extracted copy, read-only folders included."""
    for dirpath, _dirs, _files in os.walk(folder):
        Path(dirpath).chmod(0o755)
    shutil.rmtree(folder, ignore_errors=True)


SOURCE = "dbt"  # the folder the project is read from, at the release's commit
# Exactly the files of the Pants ``dbt_project`` target (pants-plugins/northstar/target_types.py), so "changed" in
# ``./release plan`` and "changed" in the artifact digest agree. Never build output or local engine files.
PROJECT_FILES = ("dbt_project.yml", "profiles.yml", "sqlmesh.yaml", "config.py", "packages.yml", "package-lock.yml")
# dbt_packages/: the vendored packages resolved by `dbt deps` (pinned by package-lock.yml) ship with the project.
PROJECT_DIRS = ("models", "seeds", "tests", "macros", "snapshots", "analyses", "audits", "dbt_packages")
EXCLUDED_DIRS = ("target", "logs", ".cache", "__pycache__")
EXCLUDED_SUFFIXES = (".duckdb", ".duckdb.wal", ".wal", ".pyc", ".lock")


def project_files(repo: Path, commit: str) -> dict[str, bytes]:
    """Artifact path -> bytes for every dbt/SQLMesh project file under ``dbt/`` at ``commit``."""
    files: dict[str, bytes] = {}
    for path, oid in gitutil.list_tree(repo, commit, SOURCE):
        rel = path[len(SOURCE) + 1:]
        parts = rel.split("/")
        if not (rel in PROJECT_FILES or (len(parts) > 1 and parts[0] in PROJECT_DIRS)):
            continue
        if any(p in EXCLUDED_DIRS for p in parts[:-1]):
            continue
        if parts[-1].endswith(EXCLUDED_SUFFIXES):
            continue
        files[rel] = gitutil.read_blob(repo, oid)
    return files
