"""Build: one commit -> one release of content-addressed artifacts.

Why the id comes from the commit and timestamps from the commit: building the same commit twice must be the same
release (``rel-`` + 12 hex of the commit) with the same digests and the same record, so ``build`` is idempotent and
anyone can rebuild a commit and compare digests. A dirty working tree is refused: what ships must be exactly a commit.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from northstar_release import envconfig, gitutil
from northstar_release.adapters.base import ArtifactAdapter, BuildContext
from northstar_release.artifact_store import LocalArtifactStore
from northstar_release.errors import UsageError
from northstar_release.gates.secrets_gate import ArtifactScanner
from northstar_release.kinds.registry import KINDS, KindRegistry
from northstar_release.model import Artifact, ArtifactKind, Release
from northstar_release.state.base import StateStore


def release_id_for(commit: str) -> str:
    return "rel-" + commit[:12]


@dataclass(frozen=True)
class BuildResult:
    release: Release
    created: bool  # False: this commit was already built (no-op)


def _artifact_name(path: Path) -> str:
    name = path.name
    for suffix in (".tar.gz", ".tgz", ".json", ".zip", ".tar"):
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return path.stem


def require_clean_tree(repo: Path, ignore_paths: Iterable[Path] = ()) -> None:
    """Refuse (exit 2) a working tree with uncommitted changes outside ``ignore_paths``. Cheap (one ``git status``),
    so the CLI runs it before anything slow (computing release tags runs Pants)."""
    ignored = []
    for p in ignore_paths:
        try:
            ignored.append(str(Path(p).resolve().relative_to(repo.resolve())).rstrip("/") + "/")
        except ValueError:
            pass
    dirty = [f for f in gitutil.dirty_files(repo) if not any(f.startswith(i) or f + "/" == i for i in ignored)]
    if dirty:
        raise UsageError("working tree has uncommitted changes; commit or stash them before building",
                         [f"dirty: {f}" for f in dirty])


def build(repo: Path, store: StateStore, artifacts: LocalArtifactStore, adapters: Mapping[ArtifactKind, ArtifactAdapter],
          actor: str, *, tags: Iterable[str] = (), ignore_paths: Iterable[Path] = (), contributors_since: str | None = None,
          tags_basis: Mapping[str, object] | None = None, progress: Callable[[str], None] = lambda m: None,
          kinds: KindRegistry = KINDS) -> BuildResult:
    """Package every adapter's artifact for HEAD, in the registry's order (the infra version map, last, pins the
    digests of every other artifact), store blobs, save the Release and its audit entry in one transaction.
    ``tags_basis`` (which commit the policy tags were computed against, and why) goes into that entry: the tags decide
    how many approvers prod needs, so an auditor must be able to see what they were computed from."""
    require_clean_tree(repo, ignore_paths)
    info = gitutil.commit_info(repo)
    release_id = release_id_for(info.sha)
    existing = store.get_release(release_id)
    if existing is not None:
        for artifact in existing.artifacts:
            artifacts.path_for(artifact.sha256)  # raises if the blob is missing or corrupted
        progress(f"{release_id} already built from {info.sha[:12]}: nothing to do")
        return BuildResult(existing, created=False)

    # Issue 11 hooks: every env config at the commit must be valid (exit 2), and no built artifact may hold a
    # potential secret (exit 1, checked before the blob is stored, so a secret never becomes an artifact).
    envconfig.validate_commit(repo, info.sha)
    scanner = ArtifactScanner(repo, info.sha, Path(artifacts.root).parent / "secret-scan")
    built: list[Artifact] = []
    with tempfile.TemporaryDirectory(prefix="northstar-build-") as tmp:
        for kind in kinds.package_order(adapters):
            work = Path(tmp) / kind.value
            work.mkdir()
            ctx = BuildContext(repo_root=repo, git_commit=info.sha, release_id=release_id, work_dir=work,
                               pinned={a.name: a.sha256 for a in built},
                               pinned_kinds={a.name: a.kind.value for a in built})
            for path in adapters[kind].package(ctx):
                scanner.require_clean(path, f"{kind.value}/{path.name}")
                artifact = artifacts.put(path, kind, _artifact_name(path))
                progress(f"packaged {kind.value} '{artifact.name}' sha256={artifact.sha256} ({artifact.size} bytes)")
                built.append(artifact)
    release = Release(id=release_id, git_commit=info.sha, author=info.author_email, created_at=info.committed_at,
                      artifacts=tuple(built), change_summary=info.subject, tags=tuple(sorted(set(tags))),
                      contributors=gitutil.contributors(repo, contributors_since, info.sha))
    with store.transaction() as tx:
        created = tx.save_release(release)
        if created:
            tx.append_audit(actor, "release.build", release.id, None,
                            {"git_commit": info.sha, "author": info.author_email, "tags": list(release.tags),
                             "contributors": list(release.contributors),
                             "artifacts": [a.to_json() for a in built],
                             **({"tags_basis": dict(tags_basis)} if tags_basis is not None else {})})
    if not created:  # a concurrent build of the same commit won; return the stored record
        stored = store.get_release(release_id)
        assert stored is not None
        return BuildResult(stored, created=False)
    progress(f"built {release_id} from {info.sha[:12]} ({info.author_email})")
    return BuildResult(release, created=True)
