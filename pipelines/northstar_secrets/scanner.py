"""Run detect-secrets with Northstar's rule set over files, folders and archives; compare with the baseline.

Why a wrapper instead of the `detect-secrets` CLI: the gate needs (a) our extra plugins always on, (b) built artifacts
(tarballs, PEX/wheel zips) scanned member by member, (c) findings that never carry the secret's value — the
detect-secrets CLI prints nothing secret either, but its Python objects hold `secret_value`, so this module copies out
only file, line, rule and a fingerprint and drops the rest before anything can log or raise it.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from collections.abc import Iterable, Iterator
from pathlib import Path

from detect_secrets.core.secrets_collection import SecretsCollection
from detect_secrets.settings import transient_settings
from pydantic import BaseModel, ConfigDict

from northstar_secrets import plugins

# Built-in detect-secrets plugins we run. Left out on purpose:
# - Base64HighEntropyString / HexHighEntropyString: every lockfile hash, sha256 content digest and fingerprint in this
#   repo (3rdparty/python/*.lock alone has thousands) is a "high-entropy string"; the noise would bury real findings
#   and turn the baseline into an unreviewable dump. Credentials are caught by the keyword/URL/provider rules instead.
# - IPPublicDetector: public IPs are not secrets.
BUILTIN_PLUGINS = (
    "ArtifactoryDetector", "AWSKeyDetector", "AzureStorageKeyDetector", "BasicAuthDetector", "CloudantDetector",
    "DiscordBotTokenDetector", "GitHubTokenDetector", "GitLabTokenDetector", "IbmCloudIamDetector", "IbmCosHmacDetector",
    "JwtTokenDetector", "KeywordDetector", "MailchimpDetector", "NpmDetector", "OpenAIDetector", "PrivateKeyDetector",
    "PypiTokenDetector", "SendGridDetector", "SlackDetector", "SoftlayerDetector", "SquareOAuthDetector", "StripeDetector",
    "TelegramBotTokenDetector", "TwilioKeyDetector",
)
CUSTOM_PLUGINS = ("DatabaseUrlPasswordDetector", "ConfigPasswordDetector")
# Never descend into these when walking a folder that is not a git work tree (an unpacked artifact).
SKIP_DIRS = {".git", "__pycache__", ".mypy_cache", ".ruff_cache", ".pytest_cache", "node_modules"}
MAX_FILE_BYTES = 5 * 1024 * 1024  # larger files are data or binaries, not config; listed as skipped


class ScanError(ValueError):
    """Bad input: a path that does not exist, an unreadable baseline or archive. Never contains file contents."""


class Finding(BaseModel):
    """One potential secret. Deliberately has no field that could hold the value."""

    model_config = ConfigDict(frozen=True)

    file: str
    line: int
    type: str
    fingerprint: str  # sha256 over rule type + detect-secrets' hashed secret, first 16 hex digits
    baselined: bool = False


def plugin_settings(plugin_file: str | None = None) -> dict[str, object]:
    """detect-secrets settings: the built-in set plus ours (loaded by file path, as detect-secrets requires)."""
    path = f"file://{plugin_file or plugins.__file__}"
    return {
        "plugins_used": [{"name": n} for n in BUILTIN_PLUGINS] + [{"name": n, "path": path} for n in CUSTOM_PLUGINS],
    }


def fingerprint(secret_type: str, hashed_secret: str) -> str:
    return hashlib.sha256(f"{secret_type}\0{hashed_secret}".encode()).hexdigest()[:16]


def _git_files(folder: Path) -> list[Path] | None:
    """Tracked and new (not ignored) files under `folder` if it is inside a git work tree, else None."""
    try:
        out = subprocess.run(["git", "-C", str(folder), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                             capture_output=True, check=True, timeout=60).stdout
    except (subprocess.CalledProcessError, FileNotFoundError, subprocess.TimeoutExpired):
        return None
    return [folder / p for p in out.decode().split("\0") if p]


def expand(paths: Iterable[Path]) -> list[Path]:
    """Files to scan. Folders in a git work tree: git's view (no ignored build output); other folders: every file."""
    files: list[Path] = []
    for path in paths:
        if path.is_file():
            files.append(path)
        elif path.is_dir():
            listed = _git_files(path)
            if listed is None:
                listed = []
                for root, dirs, names in os.walk(path):
                    dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS)
                    listed.extend(Path(root) / n for n in sorted(names))
            files.extend(p for p in listed if p.is_file() and not p.is_symlink())
        else:
            raise ScanError(f"{path}: no such file or folder")
    return sorted(set(files))


def _display(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def scan_files(files: Iterable[Path], root: Path, baseline: set[tuple[str, str, str]] | None = None,
               rename: dict[str, str] | None = None) -> list[Finding]:
    """Scan `files`; names are shown relative to `root` (and through `rename` for archive members)."""
    baseline = baseline or set()
    findings: list[Finding] = []
    with transient_settings(plugin_settings()):
        collection = SecretsCollection(root=str(root))
        names = []
        for f in files:
            try:
                if f.stat().st_size > MAX_FILE_BYTES:
                    continue
            except OSError:
                continue
            names.append(_display(f, root))
        for name in names:  # in-process: detect-secrets' scan_files would start a process pool
            collection.scan_file(name)
        for filename, secret in collection:
            shown = (rename or {}).get(filename, filename)
            findings.append(Finding(
                file=shown, line=int(secret.line_number or 0), type=secret.type,
                fingerprint=fingerprint(secret.type, secret.secret_hash),
                # An archive member matches a baseline entry by its own path or by ARCHIVE!member.
                baselined=bool({(filename, secret.type, secret.secret_hash), (shown, secret.type, secret.secret_hash)} & baseline),
            ))
            secret.secret_value = None  # drop the value as soon as we have what we report
    return sorted(findings, key=lambda x: (x.file, x.line, x.type))


def _norm(name: str) -> str:
    return name[2:] if name.startswith("./") else name


def load_baseline(path: Path) -> set[tuple[str, str, str]]:
    """(filename, type, hashed_secret) of every reviewed entry in a detect-secrets baseline file."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        results = data["results"]
        return {(_norm(name), str(e["type"]), str(e["hashed_secret"])) for name, entries in results.items() for e in entries}
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ScanError(f"{path}: not a detect-secrets baseline (needs results.<file>[].type/hashed_secret): "
                        f"{type(exc).__name__}") from None


def iter_blocking(findings: Iterable[Finding]) -> Iterator[Finding]:
    return (f for f in findings if not f.baselined)
