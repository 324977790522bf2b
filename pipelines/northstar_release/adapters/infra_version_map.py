"""Infra version map adapter (kind INFRA_VERSION_MAP): the release's artifact digests, written into each env's stack config.

Why this shape:
* package: one JSON document, ``infra-version-map.json`` = ``{schema, release_id, git_commit, artifacts: {name:
  {kind, sha256}}, infra: {program_tree, project, stacks}}``. ``artifacts`` comes from ``ctx.pinned`` (the digests of
  the release's other artifacts), so this kind must be packaged after all others. ``infra.stacks`` holds the text of
  ``infra/Pulumi.<stack>.yaml`` (and ``infra.project`` of ``Pulumi.yaml``) *at the release's commit*: a rollback must
  restore the old stack config, not re-derive it from whatever is checked out now. ``infra.program_tree`` is the git
  tree id of ``infra/`` at the commit (provenance of the Pulumi program; the program itself ships as the
  ``infra_check`` PEX). Keys sorted, fixed indentation: the same commit and digests always give the same bytes.
* deploy (``local`` backend): render ``<env_dir>/infra/Pulumi.<env>.yaml`` = the commit's stack config with
  ``northstar:artifactVersions`` = ``{name: sha256}`` (the program's flat ``name -> version string`` contract),
  ``northstar:releaseId`` and ``northstar:versionMapSha256`` (this artifact's digest: what ``current`` reads), written
  to a temp file and ``os.replace``d -- atomic, so after a SIGKILL the env holds the old or the new config. The
  ``aws`` backend (``infra/northstar_infra/deploy.py``) sets the same keys with ``pulumi config set`` and runs
  ``pulumi up``; it needs the Pulumi CLI, which is not installable here.
* check / verify: the component-side ``infra_check`` entry point runs the Pulumi program under mocks with that config
  file and applies the policy rules (KMS encryption, mandatory tags, no public buckets). The engine never imports
  Pulumi (ADR 0003).
* rollback re-renders the older stored map: no rebuild, and the same bytes as when it was first deployed.
"""

from __future__ import annotations

import hashlib
import json
import re
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from northstar_contracts.infra import InfraCheckReport
from northstar_release import faults, gitutil, strict_yaml
from northstar_release.adapters.base import (
    BuildContext,
    CheckRequest,
    ClearRequest,
    DeployOutcome,
    EnvContext,
    Reported,
    SwitchRequest,
    VerifyRequest,
)
from northstar_release.errors import UsageError
from northstar_release.fsutil import atomic_write, fsync_dir
from northstar_release.kinds.spec import KindSpec
from northstar_release.model import Artifact, ArtifactKind, GateOutcome, GateResult
from northstar_release.runner import call
from northstar_release.stages import SwitchMode, VerifyMode

ARTIFACT_NAME = "infra-version-map"
SCHEMA = "northstar.infra_version_map/1"
ENTRY_POINT = "infra_check"
INFRA_DIR = "infra"
PROJECT_FILE = "Pulumi.yaml"
STACK_FILE = re.compile(r"^Pulumi\.([A-Za-z0-9_-]+)\.yaml$")
VERSIONS_KEY = "northstar:artifactVersions"
RELEASE_KEY = "northstar:releaseId"
MAP_DIGEST_KEY = "northstar:versionMapSha256"
HEX64 = re.compile(r"^[0-9a-f]{64}$")


def stack_config_name(env: str) -> str:
    return f"Pulumi.{env}.yaml"


def build_version_map(ctx: BuildContext) -> dict[str, Any]:
    """The map as a plain dict (see module docstring); reads the infra files from the commit, not the working tree."""
    kinds: Mapping[str, str] = ctx.pinned_kinds
    stacks: dict[str, str] = {}
    project: str | None = None
    for path, oid in gitutil.list_tree(ctx.repo_root, ctx.git_commit, INFRA_DIR):
        name = path[len(INFRA_DIR) + 1:]
        if "/" in name:
            continue
        if name == PROJECT_FILE:
            project = gitutil.read_blob(ctx.repo_root, oid).decode()
        elif (match := STACK_FILE.match(name)) is not None:
            stacks[match.group(1)] = gitutil.read_blob(ctx.repo_root, oid).decode()
    try:
        program_tree: str | None = gitutil.git(ctx.repo_root, "rev-parse", f"{ctx.git_commit}:{INFRA_DIR}").decode().strip()
    except UsageError:  # no infra/ folder at this commit
        program_tree = None
    artifacts = {
        name: {"kind": kinds.get(name), "sha256": ctx.pinned[name]}
        for name in sorted(ctx.pinned) if name != ARTIFACT_NAME
    }
    return {
        "schema": SCHEMA,
        "release_id": ctx.release_id,
        "git_commit": ctx.git_commit,
        "artifacts": artifacts,
        "infra": {"program_tree": program_tree, "project": project, "stacks": dict(sorted(stacks.items()))},
    }


def serialize(version_map: Mapping[str, Any]) -> bytes:
    return (json.dumps(version_map, indent=2, sort_keys=True, ensure_ascii=True) + "\n").encode()


def render_stack_config(version_map: Mapping[str, Any], env: str, map_sha256: str) -> bytes:
    """The env's stack config: the commit's ``Pulumi.<env>.yaml`` with the version map keys set. Deterministic."""
    stacks = (version_map.get("infra") or {}).get("stacks") or {}
    base = stacks.get(env)
    if base is None:
        raise UsageError(
            f"release {version_map.get('release_id')} has no infra/{stack_config_name(env)}: "
            f"cannot write the artifact-version map into stack '{env}'",
            [f"stacks in this release: {', '.join(sorted(stacks)) or 'none'}",
             f"add infra/{stack_config_name(env)} (a Pulumi stack per environment) and build a new release"])
    # Strict: a duplicated key in the committed stack config must not silently drop settings (strict_yaml.py).
    data = strict_yaml.loads(base.encode(), f"infra/{stack_config_name(env)} of release {version_map.get('release_id')}",
                             "stack configuration") or {}
    if not isinstance(data, dict):
        raise UsageError(f"infra/{stack_config_name(env)} of release {version_map.get('release_id')} is not a mapping")
    config = data.get("config") or {}
    config[VERSIONS_KEY] = {name: entry["sha256"] for name, entry in sorted(version_map["artifacts"].items())}
    config[RELEASE_KEY] = str(version_map.get("release_id", ""))
    config[MAP_DIGEST_KEY] = map_sha256
    data["config"] = config
    header = (f"# Written by the Northstar release engine (local backend): stack '{env}' with the artifact-version map\n"
              f"# of {version_map.get('release_id')} ({map_sha256[:12]}). Do not edit; the next deploy or rollback "
              f"rewrites it.\n")
    return (header + yaml.safe_dump(data, sort_keys=True, default_flow_style=False)).encode()


class InfraVersionMapAdapter:
    kind = ArtifactKind.INFRA_VERSION_MAP

    # ---- build ---------------------------------------------------------------------------------------------------
    def package(self, ctx: BuildContext) -> list[Path]:
        if not any(path.endswith("/Pulumi.yaml") for path, _ in gitutil.list_tree(ctx.repo_root, ctx.git_commit, INFRA_DIR)):
            return []  # a repository without a Pulumi project ships no infra version map
        out = ctx.work_dir / f"{ARTIFACT_NAME}.json"
        out.write_bytes(serialize(build_version_map(ctx)))
        return [out]

    # ---- checks --------------------------------------------------------------------------------------------------
    def check(self, req: CheckRequest) -> GateResult:
        """Render the env's stack config from ``artifact`` into a temp dir and run the policy check; env untouched."""
        artifact, env = req.artifact, req.env
        target = f"{env.env}:{artifact.name}@{artifact.sha256[:12]}"
        version_map = self._load(artifact, env)
        with tempfile.TemporaryDirectory(prefix="infra-version-map-check-") as tmp:
            try:
                config = self._write_config(Path(tmp), version_map, env.env, artifact.sha256)
            except UsageError as exc:
                return GateResult(gate="infra_version_map.check", target=target, outcome=GateOutcome.FAILED,
                                  summary=exc.message, evidence={"reasons": exc.reasons})
            return self._infra_check(config, env, target=target, gate="infra_version_map.check")

    def verify(self, req: VerifyRequest) -> GateResult:
        env = req.env
        config = self.config_path(env)
        if not config.is_file():
            return GateResult(gate="infra_version_map.verify", target=str(config), outcome=GateOutcome.FAILED,
                              summary="no stack config is live")
        live = self.on_disk(env).get(ARTIFACT_NAME)
        target = f"{env.env}:{ARTIFACT_NAME}@{(live or '?')[:12]}"
        if req.mode == VerifyMode.INTEGRITY:
            known_good = live is not None and verified_baseline(config.parent, live).is_file()
            if not known_good:  # no full verification of this digest recorded here: do the full one
                return self._full_verify(config, env, target, live)
            return self._known_good(config, env, target, live or "")
        return self._full_verify(config, env, target, live)

    def _full_verify(self, config: Path, env: EnvContext, target: str, live: str | None) -> GateResult:
        """Pulumi mocks over the live stack config. A pass also records the stack state (resources with inputs): the
        baseline the infra_cost gate and `./release plan` diff the next release against (gates/cost.py), kept per
        digest too, so a rollback to this digest restores its baseline without re-running the program."""
        state = config.parent / f"state.{env.env}.json"
        result = self._infra_check(config, env, target=target, gate="infra_version_map.verify",
                                   extra=["--state-out", str(state)])
        if not result.blocking and live is not None and state.is_file():
            keep_verified_baseline(config.parent, live, state.read_bytes())
        return result

    def _known_good(self, config: Path, env: EnvContext, target: str, live: str) -> GateResult:
        """Rollback to a digest whose full verification passed in this env: the live stack config must be byte for
        byte what that version map renders (``current``); then its recorded state becomes the baseline again.

        Why not re-run the program: under Pulumi mocks it is deterministic in the config bytes, which are the ones
        that passed here before (the same reasoning as a Spark job's integrity check, ADR 0004); it saves ~1 s of a
        rollback that must take seconds."""
        running = self.current(env).get(ARTIFACT_NAME)
        if running != live:
            return GateResult(gate="infra_version_map.verify", target=target, outcome=GateOutcome.FAILED,
                              summary=f"live stack config is not what version map {live[:12]} renders: {running}",
                              evidence={"mode": "integrity", "running": running})
        baseline = verified_baseline(config.parent, live)
        atomic_write(config.parent / f"state.{env.env}.json", baseline.read_bytes())
        return GateResult(gate="infra_version_map.verify", target=target, outcome=GateOutcome.PASSED,
                          summary=f"stack config renders exactly from version map {live[:12]}, whose full "
                                  "verification passed in this env (integrity check); its stack state is the "
                                  "cost baseline again",
                          evidence={"mode": "integrity", "baseline_restored": str(baseline)})

    def _infra_check(self, config: Path, env: EnvContext, target: str, gate: str, extra: list[str] | None = None
                     ) -> GateResult:
        args = ["--stack", env.env, "--config", str(config), *(extra or [])]
        return _gate_result(gate, target, call(env.runner, ENTRY_POINT, args, InfraCheckReport))

    # ---- deploy --------------------------------------------------------------------------------------------------
    @staticmethod
    def config_path(env: EnvContext) -> Path:
        return env.env_dir / INFRA_DIR / stack_config_name(env.env)

    def on_disk(self, env: EnvContext) -> dict[str, str]:  # one artifact of this kind per env
        """The map digest the stack config claims (``northstar:versionMapSha256``; cheap, nothing re-rendered)."""
        value = _map_digest(self.config_path(env))
        return {ARTIFACT_NAME: value} if value else {}

    def current(self, env: EnvContext) -> dict[str, str]:
        """What ``pulumi up`` would really apply: the claimed digest only when the stack config (and ``Pulumi.yaml``)
        are byte for byte what that stored map renders for this env -- an edited version map, release id or setting
        makes it ``modified:<sha12> (...)``, equal to no digest, so recovery re-renders the recorded map."""
        claimed = self.on_disk(env).get(ARTIFACT_NAME)
        if claimed is None:
            return {}
        ref = Artifact(kind=self.kind, name=ARTIFACT_NAME, sha256=claimed, size=0, uri="")
        try:
            version_map = self._load(ref, env)
            expected = render_stack_config(version_map, env.env, claimed)
        except (OSError, RuntimeError, ValueError, UsageError) as exc:
            return {ARTIFACT_NAME: f"modified:{claimed[:12]} (its version map cannot be read: {exc})"}
        project = (version_map.get("infra") or {}).get("project")
        if self.config_path(env).read_bytes() != expected:
            return {ARTIFACT_NAME: f"modified:{claimed[:12]} ({self.config_path(env).name} edited)"}
        project_file = self.config_path(env).parent / PROJECT_FILE
        if project is not None and (not project_file.is_file() or project_file.read_bytes() != project.encode()):
            return {ARTIFACT_NAME: f"modified:{claimed[:12]} ({PROJECT_FILE} edited)"}
        return {ARTIFACT_NAME: claimed}

    def switch(self, req: SwitchRequest) -> DeployOutcome:
        return self._switch(req.artifact, req.env,
                            verb="rolled back to" if req.mode == SwitchMode.ROLLBACK else "deployed")

    def restore_hint(self, env: EnvContext, artifact: Artifact) -> str:
        """The switch re-renders the stack config from the stored version map: it fails when that blob is missing,
        corrupt or not a version map, or the env's infra folder cannot be written."""
        return (f"put the version map blob {artifact.uri} (sha256 {artifact.sha256[:12]}) back into the artifact "
                f"store intact: the switch then re-renders {self.config_path(env)} (and {PROJECT_FILE} when the release ships one) "
                "from it; never edit the rendered stack config by hand")

    def clear(self, req: ClearRequest) -> DeployOutcome:  # one artifact of this kind per env
        """Remove the live stack config (only when a first-ever deployment fails verification)."""
        path = self.config_path(req.env)
        if path.exists():
            path.unlink()
            fsync_dir(path.parent)
            return DeployOutcome(changed=True, message=f"removed stack config {path.name} (no previous map existed)")
        return DeployOutcome(changed=False, message="no live stack config")

    def _switch(self, artifact: Artifact, env: EnvContext, verb: str) -> DeployOutcome:
        previous = self.on_disk(env).get(ARTIFACT_NAME)
        if self.current(env).get(ARTIFACT_NAME) == artifact.sha256:  # claimed AND rendered exactly
            return DeployOutcome(changed=False, message=f"{artifact.name}@{artifact.sha256[:12]} already live",
                                 evidence={"sha256": artifact.sha256}, name=artifact.name, sha256=artifact.sha256)
        version_map = self._load(artifact, env)
        path = self._write_config(env.env_dir / INFRA_DIR, version_map, env.env, artifact.sha256, live=True)
        return DeployOutcome(changed=True, message=f"{verb} {artifact.name}@{artifact.sha256[:12]} "
                                                   f"({len(version_map['artifacts'])} artifact version(s))",
                             evidence={"from": previous, "to": artifact.sha256, "path": str(path),
                                       "artifact_versions": {n: e["sha256"] for n, e in
                                                             sorted(version_map["artifacts"].items())}},
                             name=artifact.name, sha256=artifact.sha256)

    @staticmethod
    def _load(artifact: Artifact, env: EnvContext) -> dict[str, Any]:
        blob = Path(env.artifact_path(artifact)).read_bytes()
        digest = hashlib.sha256(blob).hexdigest()
        if digest != artifact.sha256:
            raise RuntimeError(f"artifact store blob for {artifact.name} has sha256 {digest}, expected {artifact.sha256}")
        version_map: dict[str, Any] = json.loads(blob)
        if version_map.get("schema") != SCHEMA:
            raise UsageError(f"{artifact.name}@{artifact.sha256[:12]} is not an infra version map ({SCHEMA})")
        return version_map

    @staticmethod
    def _write_config(folder: Path, version_map: Mapping[str, Any], env: str, map_sha256: str, live: bool = False
                      ) -> Path:
        """Write ``Pulumi.yaml`` (if the release has one) and ``Pulumi.<env>.yaml`` into ``folder``, each atomically."""
        rendered = render_stack_config(version_map, env, map_sha256)
        folder.mkdir(parents=True, exist_ok=True)
        project = (version_map.get("infra") or {}).get("project")
        if project is not None:
            _atomic_write(folder / PROJECT_FILE, project.encode())
        if live:  # tests only: the project file is written, the stack config still names the previous map
            faults.point(f"switch:{ArtifactKind.INFRA_VERSION_MAP.value}")
        target = folder / stack_config_name(env)
        _atomic_write(target, rendered)
        return target


def _map_digest(config: Path) -> str | None:
    try:
        data = yaml.safe_load(config.read_text())
    except (OSError, yaml.YAMLError):
        return None
    value = ((data or {}).get("config") or {}).get(MAP_DIGEST_KEY) if isinstance(data, dict) else None
    return value if isinstance(value, str) and HEX64.match(value) else None


VERIFIED_DIR = "verified"  # <stack infra dir>/verified/<digest>.json: stack state of each fully verified map
KEEP_VERIFIED = 10


def verified_baseline(infra_dir: Path, digest: str) -> Path:
    """The stack state recorded when version map ``digest`` passed full verification in this env."""
    return infra_dir / VERIFIED_DIR / f"{digest}.json"


def keep_verified_baseline(infra_dir: Path, digest: str, state: bytes) -> None:
    """Record ``state`` for ``digest`` (atomically) and keep the newest :data:`KEEP_VERIFIED` of them."""
    path = verified_baseline(infra_dir, digest)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, state)
    kept = sorted(path.parent.glob("*.json"), key=lambda p: p.stat().st_mtime_ns, reverse=True)
    for old in kept[KEEP_VERIFIED:]:
        old.unlink(missing_ok=True)


def _gate_result(gate: str, target: str, reported: Reported[InfraCheckReport]) -> GateResult:
    report = reported.result
    ok = report is not None and reported.exit_code == 0 and report.ok and not report.violations
    if report is None:  # the entry point printed an ErrorRecord instead of a report
        summary = str(reported.error)
    elif ok:
        summary = f"{len(report.resources)} resource(s) under Pulumi mocks, no policy violations"
    elif report.violations:
        summary = f"{len(report.violations)} policy violation(s): " + "; ".join(
            f"{v.policy}: {(v.resource or '-').rsplit('::', 1)[-1]}: {v.message}" for v in report.violations[:5])
    else:
        summary = f"infra_check exited {reported.exit_code}"
    evidence = reported.record.to_dict()
    if reported.stderr_tail and not ok:
        evidence["stderr_tail"] = reported.stderr_tail[-2000:]
    return GateResult(gate=gate, target=target, outcome=GateOutcome.PASSED if ok else GateOutcome.FAILED,
                      summary=summary, evidence=evidence)


def _atomic_write(path: Path, data: bytes) -> None:
    """Write only when the content differs, so re-deploying the live map is a true no-op (no mtime churn)."""
    if path.is_file() and path.read_bytes() == data:
        return
    atomic_write(path, data)


SPEC = KindSpec(
    kind=ArtifactKind.INFRA_VERSION_MAP, title="infra version map", source_roots=(INFRA_DIR,), entry_point=ENTRY_POINT,
    entry_point_target="infra:infra_check", adapter=InfraVersionMapAdapter, gates=("infra_policy", "infra_cost"),
    # Rollback: integrity of the rendered config plus the digest's recorded stack state (``_known_good``).
    rollback_verify=VerifyMode.INTEGRITY, verify_env_dependent=True,
    change_note="infra changed: review the infrastructure diff; infra changes can affect every environment")
