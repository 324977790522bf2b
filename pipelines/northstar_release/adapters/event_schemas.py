"""Event schemas adapter (kind ``event_schemas``): the Avro value schemas of the Kafka topics, released like any kind.

Why this shape:
* package: one JSON document, ``event-schemas.json`` (``event_schemas/bundle.py``): per subject its catalog
  compatibility mode and its schema versions, normalised and fingerprinted. Content only, so a release that does not
  touch the schemas ships the same digest and its deploy is "already live".
* check (the ``schema_compat`` gate): each schema of the bundle that the env's registry does not hold yet is checked
  against the subject's registered versions under the subject's mode (``event_schemas/compat.py``), and each
  subject's latest schema against the columns its Spark consumers read (``event_schemas/consumers.py``); nothing
  changes.
* switch: forward registers the new versions in the env's registry (``event_schemas/registry.py``; the local backend
  writes ``<env_dir>/event-schemas/registry.json`` atomically) after checking them again -- a registry refuses an
  incompatible schema whether or not the gate is enabled. Rollback restores the registered set recorded when the
  target artifact was switched in (versions registered since are deleted). ``<env_dir>/event-schemas/live.json``
  holds the live digest and, per digest, that set (subject -> schema fingerprints).
* verify: every schema fingerprint recorded for the live digest is registered (FULL also re-parses each registered
  schema and re-hashes it). The avro library lives in the engine's own ``tools`` resolve: no component entry point.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import avro.errors
import avro.schema

from northstar_release import faults
from northstar_release.adapters.base import (
    BuildContext,
    CheckRequest,
    ClearRequest,
    DeployOutcome,
    EnvContext,
    SwitchRequest,
    VerifyRequest,
)
from northstar_release.errors import Blocked, UsageError
from northstar_release.event_schemas import bundle, compat, consumers
from northstar_release.event_schemas.registry import SchemaRegistry, registry_for
from northstar_release.fsutil import atomic_write
from northstar_release.kinds.spec import KindSpec
from northstar_release.model import Artifact, ArtifactKind, GateOutcome, GateResult
from northstar_release.stages import SwitchMode, VerifyMode

KIND = ArtifactKind("event_schemas")
ARTIFACT_NAME = "event-schemas"
LIVE_FORMAT = "northstar.event_schemas_live/1"


def live_path(env: EnvContext) -> Path:
    return env.env_dir / "event-schemas" / "live.json"


def load_bundle(artifact: Artifact, env: EnvContext) -> list[bundle.Subject]:
    blob = Path(env.artifact_path(artifact)).read_bytes()
    digest = hashlib.sha256(blob).hexdigest()
    if digest != artifact.sha256:
        raise RuntimeError(f"artifact store blob for {artifact.name} has sha256 {digest}, expected {artifact.sha256}")
    return bundle.deserialize(blob, f"{artifact.name}@{artifact.sha256[:12]}")


def incompatibilities(subjects: list[bundle.Subject], registry: SchemaRegistry) -> tuple[list[str], dict[str, Any]]:
    """Check each schema the registry does not hold yet against the subject's registered versions (and the bundle's
    earlier new ones) under its mode, and the subject's latest schema against the columns its Spark consumers read.
    Returns (problems, per-subject evidence); problems name subject, file, the version or consumer broken and why."""
    problems: list[str] = []
    evidence: dict[str, Any] = {}
    for subject in subjects:
        registered = registry.versions(subject.name)
        known = {v.fingerprint for v in registered}
        existing = [compat.Existing(f"registered version {v.version}", v.schema) for v in registered]
        new, found = [], []
        for schema in subject.versions:
            if schema.fingerprint in known:
                continue
            for inc in compat.check(schema.text, existing, subject.mode):
                found.append(f"{subject.name}: {schema.path} {inc.describe()} [{subject.mode.value}]")
            existing.append(compat.Existing(f"{schema.path} (earlier in this release)", schema.text))
            known.add(schema.fingerprint)
            new.append(schema.path)
        if subject.versions:  # what producers will write from now on: the readers of the topic must still find theirs
            latest = subject.versions[-1]
            found += [f"{subject.name}: {latest.path} {p}" for p in consumers.broken_reads(latest.text, subject.consumers)]
        problems += found
        evidence[subject.name] = {"mode": subject.mode.value, "registered_versions": [v.version for v in registered],
                                  "new": new, "consumers": [c.spark_job for c in subject.consumers],
                                  "incompatibilities": found}
    return problems, evidence


class EventSchemasAdapter:
    kind = KIND

    # ---- build ---------------------------------------------------------------------------------------------------
    def package(self, ctx: BuildContext) -> list[Path]:
        subjects = bundle.subjects_at(ctx.repo_root, ctx.git_commit)
        if not subjects:
            return []  # a commit without pipelines/catalog/schemas ships no event schemas
        out = ctx.work_dir / f"{ARTIFACT_NAME}.json"
        out.write_bytes(bundle.serialize(subjects))
        return [out]

    # ---- checks --------------------------------------------------------------------------------------------------
    def check(self, req: CheckRequest) -> GateResult:
        artifact, env = req.artifact, req.env
        target = f"{env.env}:{artifact.name}@{artifact.sha256[:12]}"
        subjects = load_bundle(artifact, env)
        problems, evidence = incompatibilities(subjects, registry_for(env.env, env.env_dir))
        new = sum(len(e["new"]) for e in evidence.values())
        summary = ("; ".join(problems[:5]) if problems else
                   f"{len(subjects)} subject(s), {new} new schema version(s), compatible under each subject's mode")
        return GateResult(gate="event_schemas.check", target=target,
                          outcome=GateOutcome.FAILED if problems else GateOutcome.PASSED,
                          summary=summary, evidence={"subjects": evidence, "problems": problems})

    # ---- deploy --------------------------------------------------------------------------------------------------
    def on_disk(self, env: EnvContext) -> dict[str, str]:
        """The digest ``live.json`` names (cheap: the registry is not asked)."""
        sha = _read_live(env).get("sha256")
        return {ARTIFACT_NAME: sha} if isinstance(sha, str) and sha else {}

    def current(self, env: EnvContext) -> dict[str, str]:
        """What producers and consumers really see: the live digest only when the registry holds exactly the schema
        set recorded for it (no version missing, none added -- e.g. registered by a switch killed before it wrote
        ``live.json``); otherwise ``modified:<sha12> (...)``, equal to no digest, so recovery restores the set."""
        live = _read_live(env)
        sha = live.get("sha256")
        if not isinstance(sha, str) or not sha:
            return {}
        expected = {s: set(fps) for s, fps in _snapshot_of(live, sha).items() if fps}
        registry = registry_for(env.env, env.env_dir)
        actual = {s: set(fps) for s, fps in _snapshot(registry, set(expected) | _subjects(registry)).items() if fps}
        if actual == expected:
            return {ARTIFACT_NAME: sha}
        differ = sorted(s for s in set(expected) | set(actual) if expected.get(s) != actual.get(s))
        return {ARTIFACT_NAME: f"modified:{sha[:12]} (registry differs for {', '.join(differ[:3])})"}

    def switch(self, req: SwitchRequest) -> DeployOutcome:
        artifact, env = req.artifact, req.env
        live = _read_live(env)
        previous = live.get("sha256")
        registry = registry_for(env.env, env.env_dir)
        subjects = load_bundle(artifact, env)
        if req.mode == SwitchMode.ROLLBACK:
            return self._restore(artifact, env, registry, live, subjects)
        if previous == artifact.sha256 and self.current(env).get(ARTIFACT_NAME) != artifact.sha256:
            return self._restore(artifact, env, registry, live, subjects)  # named live, but the registry differs
        if previous == artifact.sha256:
            return DeployOutcome(changed=False, message=f"{artifact.name}@{artifact.sha256[:12]} already live",
                                 evidence={"sha256": artifact.sha256}, name=artifact.name, sha256=artifact.sha256)
        problems, _ = incompatibilities(subjects, registry)
        if problems:  # the registry refuses what the gate would have refused: nothing is registered
            raise Blocked(f"{artifact.name}@{artifact.sha256[:12]}: incompatible schema(s), nothing registered",
                          problems)
        names = {s.name for s in subjects} | set(_snapshot_of(live, previous))
        before = _snapshot(registry, names)
        registry.register([(s.name, v.text) for s in subjects for v in s.versions])
        faults.point(f"switch:{self.kind.value}")  # tests only: registered, live.json still names the previous set
        snapshot = _snapshot(registry, names)
        _write_live(env, live, artifact.sha256, snapshot)
        added = [f"{r.subject} v{r.version}" for subject in sorted(names) for r in registry.versions(subject)
                 if r.fingerprint not in set(before.get(subject, []))]
        return DeployOutcome(changed=True, message=f"deployed {artifact.name}@{artifact.sha256[:12]}: registered "
                                                   f"{', '.join(added) or 'no new version'}",
                             evidence={"from": previous, "to": artifact.sha256, "registered": added},
                             name=artifact.name, sha256=artifact.sha256)

    def restore_hint(self, env: EnvContext, artifact: Artifact) -> str:
        """The switch back (``_restore``) deletes versions registered later and re-registers missing ones from the
        artifact's own schema files; it cannot bring back a version deleted outside the engine that those files do
        not hold, nor restore a set ``live.json`` has no snapshot of."""
        return (f"make the {env.env} schema registry hold exactly the versions {live_path(env)} records for "
                f"{artifact.sha256[:12]} (under \"snapshots\"): the switch deletes later versions and re-registers "
                f"missing ones from the stored bundle {artifact.uri}, but a version deleted outside the engine that "
                "this bundle does not hold must be re-registered by hand from the release that added it")

    def _restore(self, artifact: Artifact, env: EnvContext, registry: SchemaRegistry, live: dict[str, Any],
                 subjects: list[bundle.Subject]) -> DeployOutcome:
        """Make the registered set what it was when ``artifact`` was switched in: delete what came later, re-register
        what has gone since (from the artifact's own schemas)."""
        target = _snapshot_of(live, artifact.sha256)
        if artifact.sha256 not in (live.get("snapshots") or {}):
            raise UsageError(f"{env.env}: no record of the schemas registered while {artifact.name}@"
                             f"{artifact.sha256[:12]} was live; cannot restore that set",
                             [f"{live_path(env)} has no snapshot for {artifact.sha256}"])
        # Every subject the registry holds: a switch killed after registering a brand-new subject left it there.
        involved = set(target) | set(_snapshot_of(live, live.get("sha256"))) | _subjects(registry)
        deleted: list[tuple[str, int]] = []
        for subject in sorted(involved):
            keep = set(target.get(subject, []))
            deleted += [(subject, v.version) for v in registry.versions(subject) if v.fingerprint not in keep]
        registry.delete(deleted)
        texts = {v.fingerprint: (s.name, v.text) for s in subjects for v in s.versions}
        missing = [(subject, fp) for subject, fps in sorted(target.items()) for fp in fps
                   if fp not in {v.fingerprint for v in registry.versions(subject)}]
        registry.register([texts[fp] for _, fp in missing if fp in texts])
        lost = [f"{subject} {fp[:12]}" for subject, fp in missing if fp not in texts]
        faults.point(f"switch:{self.kind.value}")  # tests only: the registry is restored, live.json not yet
        _write_live(env, live, artifact.sha256, target)
        restored = [f"{s} {fp[:12]}" for s, fp in missing if fp in texts]
        return DeployOutcome(changed=bool(deleted or restored or live.get("sha256") != artifact.sha256),
                             message=f"rolled back to {artifact.name}@{artifact.sha256[:12]}: deleted "
                                     f"{', '.join(f'{s} v{v}' for s, v in deleted) or 'nothing'}"
                                     + (f"; NOT restorable (deleted outside the engine): {', '.join(lost)}" if lost else ""),
                             evidence={"from": live.get("sha256"), "to": artifact.sha256,
                                       "deleted": [f"{s} v{v}" for s, v in deleted],
                                       "reregistered": restored,
                                       "unrestorable": lost},
                             name=artifact.name, sha256=artifact.sha256)

    def clear(self, req: ClearRequest) -> DeployOutcome:
        """A first-ever deployment failed verification: delete every version it registered, forget the pointer."""
        env, live = req.env, _read_live(req.env)
        snapshot = _snapshot_of(live, live.get("sha256"))
        registry = registry_for(env.env, env.env_dir)
        doomed = [(s, v.version) for s, fps in sorted(snapshot.items()) for v in registry.versions(s)
                  if v.fingerprint in set(fps)]
        registry.delete(doomed)
        live_path(env).unlink(missing_ok=True)
        return DeployOutcome(changed=bool(doomed or live),
                             message=f"deleted {len(doomed)} schema version(s) (no previous set existed)")

    # ---- verify --------------------------------------------------------------------------------------------------
    def verify(self, req: VerifyRequest) -> GateResult:
        env, live = req.env, _read_live(req.env)
        sha = live.get("sha256")
        target = f"{env.env}:{ARTIFACT_NAME}@{str(sha)[:12]}"
        if not sha:
            return GateResult(gate="event_schemas.verify", target=target, outcome=GateOutcome.FAILED,
                              summary="no event schemas are live")
        registry = registry_for(env.env, env.env_dir)
        problems: list[str] = []
        expected = _snapshot_of(live, sha)
        for subject, fps in sorted(expected.items()):
            registered = {v.fingerprint: v for v in registry.versions(subject)}
            problems += [f"{subject}: schema {fp[:12]} is not registered" for fp in fps if fp not in registered]
            if req.mode == VerifyMode.FULL:
                problems += [f"{subject} v{v.version}: {_unparsable(v.schema, v.fingerprint)}"
                             for v in registered.values() if _unparsable(v.schema, v.fingerprint)]
        count = sum(len(fps) for fps in expected.values())
        return GateResult(gate="event_schemas.verify", target=target,
                          outcome=GateOutcome.FAILED if problems else GateOutcome.PASSED,
                          summary="; ".join(problems[:5]) or f"{len(expected)} subject(s), {count} schema version(s) "
                                                             f"registered ({req.mode.value} check)",
                          evidence={"mode": req.mode.value, "problems": problems,
                                    "subjects": {s: len(fps) for s, fps in expected.items()}})


def _unparsable(text: str, fp: str) -> str:
    if bundle.fingerprint(text) != fp:
        return "registered text does not hash to its fingerprint"
    try:
        avro.schema.parse(text)
    except (avro.errors.AvroException, ValueError) as exc:
        return f"not a valid Avro schema: {exc}"
    return ""


def _read_live(env: EnvContext) -> dict[str, Any]:
    path = live_path(env)
    if not path.is_file():
        return {}
    doc: dict[str, Any] = json.loads(path.read_text())
    if doc.get("format") != LIVE_FORMAT:
        raise UsageError(f"{path}: not an event-schemas live record ({LIVE_FORMAT})")
    return doc


def _snapshot_of(live: dict[str, Any], sha: object) -> dict[str, list[str]]:
    snap: dict[str, list[str]] = (live.get("snapshots") or {}).get(str(sha)) or {}
    return snap


def _subjects(registry: SchemaRegistry) -> set[str]:
    """Every subject the registry holds, when it can list them (the local registry; Glue: none, the ones named)."""
    return set(registry.subjects())


def _snapshot(registry: SchemaRegistry, subjects: set[str]) -> dict[str, list[str]]:
    return {s: [v.fingerprint for v in registry.versions(s)] for s in sorted(subjects)}


def _write_live(env: EnvContext, live: dict[str, Any], sha: str, snapshot: dict[str, list[str]]) -> None:
    snapshots = {**(live.get("snapshots") or {}), sha: snapshot}
    doc = {"format": LIVE_FORMAT, "sha256": sha, "snapshots": dict(sorted(snapshots.items()))}
    atomic_write(live_path(env), (json.dumps(doc, indent=2, sort_keys=True) + "\n").encode())


SPEC = KindSpec(
    kind=KIND, title="event schemas", source_roots=(bundle.SCHEMAS_DIR,), entry_point="release_cli",
    entry_point_target="//:release_cli", adapter=EventSchemasAdapter, gates=("schema_compat",),
    rollback_verify=VerifyMode.FULL, verify_env_dependent=True,
    change_note="event schemas changed: every changed subject must stay compatible (catalog mode, default "
                "BACKWARD_TRANSITIVE) with all versions registered in the target env")
