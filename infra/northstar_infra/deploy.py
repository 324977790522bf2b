"""The ``aws`` backend: write a release's artifact-version map into a stack's config and ``pulumi up`` that stack.

Usage::

    python -m northstar_infra.deploy --stack ENV --version-map FILE [--work-dir DIR] [--dry-run]

``FILE`` is the release engine's ``infra-version-map.json`` artifact (``{release_id, git_commit, artifacts: {name:
{kind, sha256}}, ...}``). Prints exactly one JSON object (``northstar_contracts.harness``), a
``northstar_contracts.infra.InfraDeployReport``: the commands (``dry_run`` true: only planned) or the commands run and
their exit codes. Exit 0 deployed / planned, 1 a pulumi command failed, 2 no Pulumi CLI (an ``InfraDeployReport`` with
``executed`` false) or bad usage (an ``ErrorRecord``).

What it runs, in ``DIR`` (the Pulumi project folder holding ``Pulumi.yaml`` and ``__main__.py``)::

    pulumi config --stack ENV --json                                     # read: which map entries are stale
    pulumi config rm  --stack ENV --path 'northstar:artifactVersions["old"]'  # per stale entry
    pulumi config set --stack ENV --path 'northstar:artifactVersions["name"]' SHA256   # per artifact
    pulumi config set --stack ENV northstar:releaseId REL
    pulumi config set --stack ENV northstar:versionMapSha256 SHA256
    pulumi up --stack ENV --yes --non-interactive

Why the CLI (and not the Automation API): the Automation API is a wrapper that shells out to the same CLI (it raises
at ``LocalWorkspace`` creation when the CLI is missing), so the explicit argv is both simpler and reviewable.
Bracketed ``--path`` keys because artifact names contain ``-`` and ``.``, which the bare path syntax would misread.

The Pulumi CLI cannot be installed on this project's build machines, so this path is exercised by tests only up to
the point where the CLI is needed: argument construction, and the clear error below. Locally the release engine
uses the ``local`` backend, which writes the same keys into stack config files in its state folder.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from northstar_contracts.base import EXIT_USAGE
from northstar_contracts.harness import JsonArgumentParser, Outcome, UsageError, run_entrypoint
from northstar_contracts.infra import InfraDeployReport

NAMESPACE = "northstar"
VERSIONS_KEY = f"{NAMESPACE}:artifactVersions"
RELEASE_KEY = f"{NAMESPACE}:releaseId"
MAP_DIGEST_KEY = f"{NAMESPACE}:versionMapSha256"
CLI_MISSING = ("Pulumi CLI not found: the aws backend needs the pulumi CLI; "
               "the local backend writes stack config files instead")


class PulumiCliNotFound(RuntimeError):
    """Raised before anything is attempted when no ``pulumi`` executable can be found."""

    def __init__(self, searched: str = "") -> None:
        super().__init__(CLI_MISSING + (f" (searched: {searched})" if searched else ""))


def find_pulumi_cli(environ: Mapping[str, str] | None = None) -> str:
    """``$PULUMI_CLI``, else ``pulumi`` on PATH, else ``$PULUMI_HOME/bin/pulumi`` / ``~/.pulumi/bin/pulumi``."""
    env = os.environ if environ is None else environ
    explicit = env.get("PULUMI_CLI", "").strip()
    if explicit:
        if os.access(explicit, os.X_OK):
            return explicit
        raise PulumiCliNotFound(f"PULUMI_CLI={explicit} is not executable")
    found = shutil.which("pulumi", path=env.get("PATH", ""))
    if found:
        return found
    homes = [Path(env["PULUMI_HOME"]) if env.get("PULUMI_HOME") else None,
             Path(env.get("HOME", "~")).expanduser() / ".pulumi"]
    for home in homes:
        if home is not None and os.access(home / "bin" / "pulumi", os.X_OK):
            return str(home / "bin" / "pulumi")
    raise PulumiCliNotFound("PULUMI_CLI, PATH, " + ", ".join(str(h / "bin") for h in homes if h))


def config_values(version_map: Mapping[str, Any], map_sha256: str) -> dict[str, Any]:
    """The stack config keys a version map becomes (the release engine's local backend writes the same keys).

    ``northstar:artifactVersions`` stays a flat ``name -> version string`` map because that is the program's
    contract (``stack.load_settings``); the version string is the artifact's sha256.
    """
    artifacts = version_map.get("artifacts")
    if not isinstance(artifacts, Mapping):
        raise ValueError("version map has no 'artifacts' object")
    versions = {}
    for name, entry in sorted(artifacts.items()):
        sha = entry.get("sha256") if isinstance(entry, Mapping) else None
        if not isinstance(sha, str) or len(sha) != 64:
            raise ValueError(f"version map entry {name!r} has no sha256")
        versions[str(name)] = sha
    return {VERSIONS_KEY: versions, RELEASE_KEY: str(version_map.get("release_id", "")), MAP_DIGEST_KEY: map_sha256}


def _path_key(key: str, item: str) -> str:
    return f"{key}[{json.dumps(item)}]"


def config_commands(stack: str, values: Mapping[str, Any], current: Mapping[str, Any], pulumi: str = "pulumi"
                    ) -> list[list[str]]:
    """``pulumi config rm/set`` argv that turn ``current`` (``pulumi config --json`` output) into ``values``."""
    commands: list[list[str]] = []
    new_versions: Mapping[str, str] = values[VERSIONS_KEY]
    old_entry = current.get(VERSIONS_KEY) or {}
    old_versions = old_entry.get("objectValue") or _maybe_json(old_entry.get("value")) or {}
    for name in sorted(set(old_versions) - set(new_versions)):
        commands.append([pulumi, "config", "rm", "--stack", stack, "--path", _path_key(VERSIONS_KEY, name)])
    for name, sha in sorted(new_versions.items()):
        commands.append([pulumi, "config", "set", "--stack", stack, "--path", _path_key(VERSIONS_KEY, name), sha])
    for key in (RELEASE_KEY, MAP_DIGEST_KEY):
        commands.append([pulumi, "config", "set", "--stack", stack, key, str(values[key])])
    return commands


def up_command(stack: str, pulumi: str = "pulumi", policy_pack: Path | None = None) -> list[str]:
    cmd = [pulumi, "up", "--stack", stack, "--yes", "--non-interactive"]
    if policy_pack is not None:
        cmd += ["--policy-pack", str(policy_pack)]
    return cmd


def _maybe_json(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return None
    return value


@dataclass
class DeployReport:
    stack: str
    dry_run: bool
    commands: list[list[str]] = field(default_factory=list)
    exit_codes: list[int] = field(default_factory=list)
    ok: bool = True
    error: str = ""

    def to_record(self) -> InfraDeployReport:
        return InfraDeployReport(stack=self.stack, dry_run=self.dry_run, executed=not self.dry_run,
                                 commands=[list(c) for c in self.commands], exit_codes=list(self.exit_codes),
                                 ok=self.ok, error=self.error or None)

    def to_json(self) -> dict[str, Any]:
        return self.to_record().to_dict()


Runner = Callable[..., "subprocess.CompletedProcess[str]"]


def deploy(stack: str, version_map_file: Path, work_dir: Path, *, dry_run: bool = False,
           environ: Mapping[str, str] | None = None, run: Runner = subprocess.run,
           policy_pack: Path | None = None) -> DeployReport:
    """Set the version map into ``stack``'s config and run ``pulumi up``. Raises PulumiCliNotFound first thing
    (also for ``dry_run``: a plan that could never run is not a plan)."""
    pulumi = find_pulumi_cli(environ)
    raw = version_map_file.read_bytes()
    values = config_values(json.loads(raw), hashlib.sha256(raw).hexdigest())
    report = DeployReport(stack=stack, dry_run=dry_run)
    env = dict(os.environ if environ is None else environ)
    env.setdefault("PULUMI_SKIP_UPDATE_CHECK", "true")

    def _run(cmd: list[str]) -> subprocess.CompletedProcess[str]:
        report.commands.append(cmd)
        proc = run(cmd, cwd=work_dir, env=env, capture_output=True, text=True)
        report.exit_codes.append(proc.returncode)
        return proc

    listed = _run([pulumi, "config", "--stack", stack, "--json"])
    if listed.returncode != 0:
        report.ok, report.error = False, f"pulumi config --json failed: {listed.stderr.strip()[-500:]}"
        return report
    planned = config_commands(stack, values, _maybe_json(listed.stdout) or {}, pulumi) + [
        up_command(stack, pulumi, policy_pack)]
    if dry_run:
        report.commands += planned
        return report
    for cmd in planned:
        proc = _run(cmd)
        if proc.returncode != 0:
            report.ok, report.error = False, f"{' '.join(cmd[1:3])} failed: {proc.stderr.strip()[-500:]}"
            return report
    return report


def handle(argv: list[str]) -> Outcome:
    parser = JsonArgumentParser(prog="northstar_infra.deploy", description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--stack", required=True)
    parser.add_argument("--version-map", required=True, type=Path)
    parser.add_argument("--work-dir", type=Path, default=Path(__file__).resolve().parents[1])
    parser.add_argument("--policy-pack", type=Path)
    parser.add_argument("--dry-run", action="store_true")
    args = parser.parse_args(argv)
    try:
        report = deploy(args.stack, args.version_map, args.work_dir, dry_run=args.dry_run,
                        policy_pack=args.policy_pack)
    except PulumiCliNotFound as exc:
        # Not an ErrorRecord: the caller reads ``executed`` to know nothing ran.
        return Outcome(EXIT_USAGE, InfraDeployReport(stack=args.stack, ok=False, dry_run=args.dry_run, executed=False,
                                                     error=str(exc)))
    except (OSError, ValueError) as exc:
        raise UsageError(str(exc), stack=args.stack) from exc
    return Outcome.of(report.to_record())


def main(argv: Sequence[str] | None = None, stdout: IO[str] | None = None) -> int:
    """One JSON object on ``stdout`` (default: the process's stdout), exit 0 / 1 / 2."""
    return run_entrypoint(handle, argv, stdout=stdout, command="deploy")


if __name__ == "__main__":
    sys.exit(main())
