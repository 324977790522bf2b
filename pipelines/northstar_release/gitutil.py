"""Thin git helpers. Why read from git objects, not the working tree: a release must be exactly a commit, so uncommitted
edits can never leak into an artifact, and the same commit always yields the same bytes."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from northstar_release.errors import UsageError


def git(repo: Path, *args: str, input_bytes: bytes | None = None) -> bytes:
    proc = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, input=input_bytes)
    if proc.returncode != 0:
        raise UsageError(f"git {' '.join(args)} failed: {proc.stderr.decode(errors='replace').strip()}")
    return proc.stdout


def repo_root(start: Path) -> Path | None:
    proc = subprocess.run(["git", "-C", str(start), "rev-parse", "--show-toplevel"], capture_output=True, text=True)
    return Path(proc.stdout.strip()) if proc.returncode == 0 else None


@dataclass(frozen=True)
class CommitInfo:
    sha: str
    author_email: str
    committed_at: datetime
    subject: str


def commit_info(repo: Path, rev: str = "HEAD") -> CommitInfo:
    out = git(repo, "show", "-s", "--format=%H%x00%ae%x00%cI%x00%s", rev).decode().strip()
    sha, email, when, subject = out.split("\x00", 3)
    return CommitInfo(sha=sha, author_email=email, committed_at=datetime.fromisoformat(when), subject=subject)


def contributors(repo: Path, since: str | None, rev: str = "HEAD") -> tuple[str, ...]:
    """Lower-cased author and committer e-mails of the commits in ``since..rev`` (just ``rev`` when ``since`` is None).

    Why committers too: whoever rebased or merged a change shaped what ships as much as its author did."""
    args = ["log", "--format=%ae%n%ce", f"{since}..{rev}"] if since else ["log", "-1", "--format=%ae%n%ce", rev]
    emails = {line.strip().lower() for line in git(repo, *args).decode().splitlines() if line.strip()}
    return tuple(sorted(emails))


def dirty_files(repo: Path) -> list[str]:
    """Tracked modifications and untracked (non-ignored) files: anything that would make HEAD != what you see."""
    out = git(repo, "status", "--porcelain", "--untracked-files=all").decode()
    return [line[3:] for line in out.splitlines() if line.strip()]


def list_tree(repo: Path, commit: str, prefix: str) -> list[tuple[str, str]]:
    """(path, blob sha) of every file under ``prefix`` at ``commit``; empty if the folder does not exist there."""
    out = git(repo, "ls-tree", "-r", "-z", "--full-tree", commit, "--", prefix)
    entries = []
    for record in out.split(b"\x00"):
        if not record:
            continue
        meta, path = record.split(b"\t", 1)
        _mode, otype, oid = meta.split()
        if otype == b"blob":
            entries.append((path.decode(), oid.decode()))
    return entries


def read_blob(repo: Path, oid: str) -> bytes:
    return git(repo, "cat-file", "blob", oid)


def read_blobs(repo: Path, oids: list[str]) -> list[bytes]:
    """Many blobs in one ``git cat-file --batch`` (one process instead of ~300)."""
    if not oids:
        return []
    proc = subprocess.run(["git", "-C", str(repo), "cat-file", "--batch"], input="\n".join(oids).encode() + b"\n",
                          capture_output=True)
    if proc.returncode != 0:
        raise UsageError(f"git cat-file --batch failed: {proc.stderr.decode(errors='replace').strip()}")
    out, pos, blobs = proc.stdout, 0, []
    for _ in oids:
        header_end = out.index(b"\n", pos)
        size = int(out[pos:header_end].split()[2])
        blobs.append(out[header_end + 1:header_end + 1 + size])
        pos = header_end + 1 + size + 1
    return blobs
