"""secret_scan: no credential may enter a release -- checked over the changed sources at ``plan``, over every built
artifact at ``build`` (before it is stored), and over the stored artifacts again before any environment.

Why three places: ``plan`` is the pull-request feedback (the committed files that changed since the base), ``build``
is the control (a finding stops the build before the blob reaches the content-addressed store, so a secret never
becomes an artifact or an audit record), and the deploy gate catches releases built before a rule existed or
with an older baseline. Scanning is ``northstar_secrets`` (detect-secrets plus Northstar's URL/config-password
rules); a finding is reported as ``file:line: rule [fingerprint]`` -- the value is dropped inside the scanner and
appears in no output, log, state or audit record. Reviewed false positives live in the committed
``.secrets.baseline`` (read from the commit being released, never from the working tree). An artifact member is
matched against the baseline by rule and hashed value, since its path inside the artifact differs from the repo path.

A clean scan is remembered under ``<state>/secret-scan/v<rules>-<baseline sha>/``: per artifact digest (a rebuild that
leaves a kind unchanged does not rescan it) and per archive member digest (the job PEXes share their bootstrap and
dependencies, so only the first one pays). A new baseline or rule version starts from nothing.
"""

from __future__ import annotations

import hashlib
import subprocess
import tarfile
import tempfile
import zipfile
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from northstar_release import gitutil
from northstar_release.errors import Blocked, UsageError
from northstar_release.gates.base import GateContext
from northstar_release.model import ArtifactKind, GateOutcome, GateResult

if TYPE_CHECKING:
    from northstar_secrets.scanner import Finding

BASELINE_FILE = ".secrets.baseline"
SCANNER_VERSION = "1"  # bump when the rule set changes: remembered clean scans are then redone
MEMBERS_FILE = "clean-members.txt"  # sha256 of every archive member scanned clean under this baseline


def baseline_at(repo: Path, commit: str) -> tuple[set[tuple[str, str, str]], str]:
    """The reviewed entries of ``.secrets.baseline`` at ``commit`` and a digest of that baseline ('' when absent).

    northstar_secrets (detect-secrets) is imported where a scan runs, not when the CLI starts."""
    from northstar_secrets import scanner

    try:
        raw = gitutil.git(repo, "show", f"{commit}:{BASELINE_FILE}")
    except UsageError:
        return set(), ""
    with tempfile.TemporaryDirectory(prefix="northstar-baseline-") as tmp:
        path = Path(tmp) / BASELINE_FILE
        path.write_bytes(raw)
        try:
            entries: set[tuple[str, str, str]] = scanner.load_baseline(path)
        except scanner.ScanError as exc:
            raise UsageError(f"{BASELINE_FILE} at {commit[:12]}: {exc}") from None
    return entries, hashlib.sha256(raw).hexdigest()


def _reviewed_fingerprints(baseline: set[tuple[str, str, str]]) -> set[str]:
    from northstar_secrets import scanner

    return {scanner.fingerprint(kind, hashed) for _name, kind, hashed in baseline}


def describe(findings: Iterable[Finding]) -> list[str]:
    """``file:line: rule [fingerprint]`` per blocking finding: everything a reviewer needs, never the value."""
    return [f"{f.file}:{f.line}: {f.type} [{f.fingerprint}]" for f in findings if not f.baselined]


def changed_files_at(repo: Path, since: str, rev: str = "HEAD") -> list[str]:
    proc = subprocess.run(["git", "-C", str(repo), "diff", "--name-only", "--diff-filter=d", f"{since}...{rev}"],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        raise UsageError(f"git diff {since}...{rev} failed: {proc.stderr.strip()}")
    return [line for line in proc.stdout.splitlines() if line]


def scan_changed(repo: Path, since: str, rev: str = "HEAD") -> tuple[list[str], int]:
    """Scan the committed content (at ``rev``) of every file changed since ``since``; (blocking findings, scanned)."""
    from northstar_secrets import scanner

    commit = gitutil.git(repo, "rev-parse", rev).decode().strip()
    names = [n for n in changed_files_at(repo, since, commit) if n != BASELINE_FILE]
    if not names:
        return [], 0
    baseline, _ = baseline_at(repo, commit)
    with tempfile.TemporaryDirectory(prefix="northstar-scan-") as tmp:
        root = Path(tmp)
        files = []
        for name in names:
            target = root / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(gitutil.git(repo, "show", f"{commit}:{name}"))
            files.append(target)
        findings = scanner.scan_files(files, root, baseline)
    return describe(findings), len(files)


def scan_artifact(path: Path, label: str, reviewed: set[str], clean: set[str] | None = None) -> tuple[list[str], int]:
    """Scan one built artifact (an archive member by member, nested archives one level, or a plain file);
    ``clean`` holds member digests already scanned clean (see ``northstar_secrets.archive.scan_archive``)."""
    from northstar_secrets import archive, scanner

    try:
        if tarfile.is_tarfile(path) or zipfile.is_zipfile(path):
            findings, count = archive.scan_archive(path, None, label, clean=clean)
        else:
            findings, count = scanner.scan_files([path], path.parent, None, {path.name: label}), 1
    except scanner.ScanError as exc:
        raise UsageError(f"secret scan of {label} failed: {exc}") from None
    return describe(f for f in findings if f.fingerprint not in reviewed), count


class ArtifactScanner:
    """Scans built artifacts for ``build`` and for the deploy gate, remembering clean digests under ``cache_dir``."""

    def __init__(self, repo: Path, commit: str, cache_dir: Path | None) -> None:
        baseline, digest = baseline_at(repo, commit)
        self.reviewed = _reviewed_fingerprints(baseline)
        self.cache = cache_dir / f"v{SCANNER_VERSION}-{digest[:16] or 'none'}" if cache_dir else None
        self.clean: set[str] = set()
        members = self.cache / MEMBERS_FILE if self.cache else None
        if members is not None and members.is_file():
            self.clean = set(members.read_text().split())

    def scan(self, path: Path, label: str, sha256: str | None = None) -> list[str]:
        sha256 = sha256 or hashlib.sha256(path.read_bytes()).hexdigest()
        marker = self.cache / sha256 if self.cache else None
        if marker is not None and marker.exists():
            return []
        before = set(self.clean)
        found, _count = scan_artifact(path, label, self.reviewed, self.clean)
        if self.cache is not None:
            self.cache.mkdir(parents=True, exist_ok=True)
            added = sorted(self.clean - before)
            if added:  # one append per artifact: concurrent builds can only add lines, never lose the file
                with (self.cache / MEMBERS_FILE).open("a") as handle:
                    handle.write("\n".join(added) + "\n")
            if not found and marker is not None:
                marker.touch()
        return found

    def require_clean(self, path: Path, label: str) -> None:
        """Raise ``Blocked`` (exit 1) naming file and line of every finding; the build stores nothing of it."""
        found = self.scan(path, label)
        if found:
            raise Blocked(f"secret scan: {len(found)} potential secret(s) in built artifact {label}; nothing was stored",
                          [*found, "remove the secret (reference it: env_var(), a secrets backend, Pulumi secret "
                                   "config) or, if reviewed as a false positive, add it to .secrets.baseline"])


class SecretScanGate:
    name = "secret_scan"
    description = ("no potential secret in any artifact of the release (detect-secrets + Northstar rules, reviewed "
                   "false positives in .secrets.baseline at the release's commit)")
    kind = ArtifactKind("release")  # every artifact of the release, whatever its kind
    environment_dependent = False

    def evaluate(self, ctx: GateContext) -> list[GateResult]:
        # Without the repository (or the commit in it) the baseline is empty: stricter, never looser.
        repo = ctx.repo or gitutil.repo_root(Path.cwd()) or Path(".")
        cache = ctx.env.env_dir.parent.parent / "secret-scan" if ctx.env.env_dir.parent.name == "envs" else None
        scanner = ArtifactScanner(Path(repo), ctx.release.git_commit, cache)
        results = []
        for artifact in ctx.release.artifacts:
            label = f"{artifact.kind.value}/{artifact.name}@{artifact.sha256[:12]}"
            found = scanner.scan(Path(ctx.env.artifact_path(artifact)), label, artifact.sha256)
            results.append(GateResult(
                gate=self.name, target=label, outcome=GateOutcome.FAILED if found else GateOutcome.PASSED,
                summary=(f"{len(found)} potential secret(s): " + "; ".join(found[:5])) if found else "no secrets found",
                evidence={"findings": found}))
        return results or [GateResult(gate=self.name, target=ctx.release.id, outcome=GateOutcome.PASSED,
                                      summary="release carries no artifacts")]
