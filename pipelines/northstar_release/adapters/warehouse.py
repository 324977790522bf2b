"""Warehouse adapter (kind WAREHOUSE_PROJECT): the dbt project run by SQLMesh, one deterministic tarball per commit.

Why this shape:
* package: the dbt project files (``dbt/`` minus build output, engine files and the Python helper package) are read
  from the git commit, never the working tree, and written with fixed tar/gzip metadata -> same commit, same sha256.
* The engine never imports SQLMesh or dbt (ADR 0003): every warehouse operation is the ``warehouse`` component entry
  point (``northstar_dbt.warehouse``) run as a subprocess that prints one JSON object, read here as the typed record
  of its subcommand (``northstar_contracts.warehouse``).
* check is ONE entry-point call (``check``: unit tests, the scratch audit and a non-applying plan into the env); when
  the same digest passed before (scope ENVIRONMENT), only ``plan`` runs and the earlier evidence is carried over.
* dev, staging and prod are SQLMesh *environments* in ONE DuckDB warehouse (``<state>/warehouse/warehouse.duckdb``,
  SQLMesh state in ``<state>/warehouse/sqlmesh_state.duckdb`` or PostgreSQL via ``NORTHSTAR_SQLMESH_STATE_URL``).
  A deploy extracts the artifact once per digest into ``<warehouse dir>/projects/<sha256>/`` (shared by every env and
  the check gate, read-only, dbt's partial-parse file kept) and plans it into the env with automatic
  categorization; promotion of an artifact the previous env already built is a virtual update (0 rows recomputed).
* Promotion and rollback of a digest some env verified and pinned are made from SQLMesh state (``plan --from-env
  keep_<env>_<sha12>``): the component points the env at the pin's snapshots without loading the dbt project (the
  37-56 s step at 214 models), skips the post-apply audits (every snapshot was audited when built), and falls back
  to loading the project when that would not be a pure virtual update (evidence ``from_state``/``state_fallback``).
  ``<env_dir>/warehouse/LIVE`` (written atomically) records the digest the env was last switched to.
* Acknowledgements: a BREAKING change to a ``finance`` model, or any forward-only change, must be acknowledged by
  release tags ``ack:<model>`` (see ``acks_of``). The engine passes them in every check and switch request.
* rollback is a re-plan of the env to the older digest's snapshots (``--virtual-only``; from its pin in SQLMesh
  state when there is one): the same snapshots, no recompute; refused with a clear message when the janitor has
  removed them. To keep that possible, each verified
  deploy pins its snapshots as SQLMesh environment ``keep_<env>_<sha12>`` (last ``KEEP_KNOWN_GOOD`` per env;
  names and ``PINS.json``: ``warehouse_pins.py``).
* deploy runs plan + apply + post-apply tables/audits in ONE component process (a project load dominates it)
  and returns that verification in its outcome; ``verify`` receives the outcome back in its request and reuses it
  when it is for the digest still live, otherwise it runs the ``verify`` subcommand. No state is kept in the adapter.
* The digest depends on the project's content only (the manifest lists files and hashes, no commit or release).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import re
from pathlib import Path
from typing import Any, TypeVar

from northstar_contracts.base import Record
from northstar_contracts.warehouse import (
    TableFingerprint,
    VerifyResult,
    WarehouseCheckReport,
    WarehousePlanReport,
    WarehouseServingReport,
    WarehouseTablesReport,
    WarehouseVerifyReport,
)
from northstar_release.adapters.base import (
    BuildContext,
    CheckRequest,
    CheckScope,
    ClearRequest,
    DeployOutcome,
    EnvContext,
    Reported,
    SwitchRequest,
    VerifyRequest,
    outcome_for,
)
from northstar_release.adapters.dag_bundle import write_deterministic_tarball
from northstar_release.adapters.warehouse_pins import (
    KEEP_KNOWN_GOOD,
    pin_env,
    pin_plan,
    pins,
    remember_pins,
    state_sources,
)
from northstar_release.adapters.warehouse_pins import (
    PINS_FILE as PINS_FILE,  # re-exported: the adapter's files and pin names, as before the split
)
from northstar_release.adapters.warehouse_pins import (
    pin_name as pin_name,
)
from northstar_release.adapters.warehouse_projects import COMPLETE_MARKER, SOURCE, extract_shared, project_files
from northstar_release.adapters.warehouse_results import (
    MANIFEST as MANIFEST,  # re-exported: the artifact's manifest name belongs to this kind
)
from northstar_release.adapters.warehouse_results import (
    check_result,
    full_check_result,
    integrity_result,
    reused_parts,
    reused_summary,
    verify_result,
)
from northstar_release.errors import Blocked
from northstar_release.fsutil import fsync_dir
from northstar_release.kinds.spec import KindSpec
from northstar_release.model import Artifact, ArtifactKind, GateOutcome, GateResult, Release
from northstar_release.runner import call
from northstar_release.stages import SwitchMode, VerifyMode

ARTIFACT_NAME = "warehouse-project"
ENTRY_POINT = "warehouse"
LIVE_FILE = "LIVE"
ACK_TAG_PREFIX = "ack:"
UNKNOWN_SERVING, ABSENT_SERVING = "unknown", "absent"  # ``serving`` verdicts that name no digest
R = TypeVar("R", bound=Record)
def acks_of(release: Release) -> list[str]:
    """Models acknowledged by the release's ``ack:<model>`` tags (lower-case, sorted)."""
    return list(release.acks)


class WarehouseAdapter:
    kind = ArtifactKind.WAREHOUSE_PROJECT

    def __init__(self, keep_known_good: int = KEEP_KNOWN_GOOD) -> None:
        self.keep_known_good = keep_known_good  # configuration, not state: the same for every call

    # ---- locations -----------------------------------------------------------------------------------------------
    @staticmethod
    def warehouse_paths(env: EnvContext) -> tuple[Path, Path]:
        """Local backend: <state>/warehouse/{warehouse,sqlmesh_state}.duckdb, shared by every env (env_dir=<state>/envs/<env>)."""
        base = Path(os.environ.get("NORTHSTAR_WAREHOUSE_DIR") or (env.env_dir.parent.parent / "warehouse"))
        return base / "warehouse.duckdb", base / "sqlmesh_state.duckdb"

    def _engine_args(self, env: EnvContext, project: Path) -> list[str]:
        warehouse, state = self.warehouse_paths(env)
        return ["--project", str(project), "--warehouse", str(warehouse), "--state", str(state)]

    @staticmethod
    def _root(env: EnvContext) -> Path:
        return env.env_dir / "warehouse"

    # ---- build ---------------------------------------------------------------------------------------------------
    def package(self, ctx: BuildContext) -> list[Path]:
        files = project_files(ctx.repo_root, ctx.git_commit)
        if not files:
            return []  # a repository without dbt/ ships no warehouse project
        if "dbt_project.yml" not in files:
            raise Blocked(f"no dbt project at {SOURCE}/dbt_project.yml in commit {ctx.git_commit[:12]}")
        # Content only (no commit, release id or other artifacts' pins): an unchanged project keeps its digest.
        manifest = {
            "source": f"{SOURCE}/",
            "files": {p: hashlib.sha256(b).hexdigest() for p, b in sorted(files.items())},
        }
        files[MANIFEST] = (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode()
        out = ctx.work_dir / f"{ARTIFACT_NAME}.tar.gz"
        write_deterministic_tarball(out, files)
        return [out]

    # ---- checks --------------------------------------------------------------------------------------------------
    def check(self, req: CheckRequest) -> GateResult:
        """dbt unit tests + every SQLMesh audit (on a scratch build) + a non-applying plan into the env.

        Nothing in the env changes. The result FAILS when the plan needs an acknowledgement the request lacks.
        """
        artifact, env = req.artifact, req.env
        target = f"{artifact.name}@{artifact.sha256[:12]}"
        acks = [a for ack in sorted(set(req.acks)) for a in ("--ack", ack)]
        project = self.ensure_extracted(artifact, env)
        args = [*self._engine_args(env, project), "--env", env.env, *acks]
        if req.scope == CheckScope.ENVIRONMENT and req.prior is not None and req.prior_ref is not None:
            # dbt unit tests and audits on a scratch build depend only on the project's bytes (this digest): they
            # passed before; carry that evidence over, pointing at it, and run only the plan into this env. When a
            # verified env pinned this digest's snapshots, that plan is made from SQLMesh state (no project load):
            # the same snapshot set a load would yield, so the same categories and acknowledgements (from_state.py).
            unit, audit = reused_parts(req.prior)
            plan = _call(env, WarehousePlanReport, "plan", *args, *state_sources(env.env_dir, artifact.sha256))
            return reused_summary(check_result(target, unit, audit, plan), req.prior_ref, env.env)
        return full_check_result(target, _call(env, WarehouseCheckReport, "check", *args))

    def verify(self, req: VerifyRequest) -> GateResult:
        env = req.env
        sha = self._live(env)
        if sha is None:
            return GateResult(gate="warehouse.verify", target=f"{env.env}:warehouse", outcome=GateOutcome.FAILED,
                              summary="no warehouse project is live")
        target = f"{env.env}:{ARTIFACT_NAME}@{sha[:12]}"
        switched = outcome_for(req, sha)
        if switched is not None and isinstance(switched.verified, VerifyResult):
            return verify_result(target, switched.verified, None, "post-apply (same component process as the switch)")
        if req.mode == VerifyMode.INTEGRITY:
            return integrity_result(self.project_dir(env, sha), target)
        pin, unpin = pin_plan(env.env, self._root(env), sha, self.keep_known_good)
        args = [*self._engine_args(env, self.project_dir(env, sha)), "--env", env.env, "--pin", pin,
                *(a for old in unpin for a in ("--unpin", old))]
        reported = _call(env, WarehouseVerifyReport, "verify", *args)
        if reported.result is not None:
            remember_pins(env.env, self._root(env), self._live(env), reported.result.pins, self.keep_known_good)
        return verify_result(target, reported.result, reported.error, "verify subcommand")

    def table_fingerprints(self, env: EnvContext) -> dict[str, TableFingerprint]:
        """Row count + checksum per model as the env sees it (e.g. "prod unchanged" evidence); {} when nothing is live."""
        sha = self._live(env)
        if sha is None:
            return {}
        reported = _call(env, WarehouseTablesReport, "tables", *self._engine_args(env, self.project_dir(env, sha)),
                         "--env", env.env)
        if reported.result is None or reported.exit_code != 0:
            raise Blocked(f"warehouse: cannot read the tables of {env.env}: "
                          f"{reported.error or 'component exited ' + str(reported.exit_code)}")
        return dict(reported.result.tables)

    def tables(self, env: EnvContext) -> dict[str, dict[str, Any]]:
        """:meth:`table_fingerprints` as JSON-ready data (what ``./release tables`` prints)."""
        return {name: t.to_dict() for name, t in self.table_fingerprints(env).items()}

    # ---- deploy --------------------------------------------------------------------------------------------------
    def current(self, env: EnvContext) -> dict[str, str]:  # one artifact of this kind per env
        """What the SQLMesh environment ACTUALLY serves, not what ``LIVE`` says (one ``serving`` call, no project load).

        A killed CLI whose component kept running, or a kill between SQLMesh's apply and the engine's record, leaves
        SQLMesh serving another snapshot set while ``LIVE`` and the engine's state agree. The candidates are the LIVE
        digest and this env's pinned digests (each with the pin ``keep_<env>_<sha12>`` holding its verified snapshot
        set); the digest whose pin equals the env's snapshot set exactly is reported, else a value no digest can equal
        (``unknown:<n> snapshots`` / ``absent``), so recovery switches the env back to the recorded release.
        """
        sha = self._live(env)
        if sha is None:
            return {}
        return {ARTIFACT_NAME: self.serving(env, sha)}

    def on_disk(self, env: EnvContext) -> dict[str, str]:
        """The digest ``LIVE`` names (no component call): what the engine last switched the env to."""
        sha = self._live(env)
        return {ARTIFACT_NAME: sha} if sha else {}

    def serving(self, env: EnvContext, live: str) -> str:
        """The candidate digest whose pin holds exactly the snapshot set ``env`` serves, or ``unknown:...``."""
        candidates = [f"{live}={src}" for src in state_sources(env.env_dir, live)[1::2]]
        candidates += [f"{sha}={pin_env(env.env, sha)}" for sha in pins(self._root(env)) if sha != live]
        args = [*self._engine_args(env, self.project_dir(env, live)), "--env", env.env,
                *(a for c in candidates for a in ("--candidate", c))]
        reported = _call(env, WarehouseServingReport, "serving", *args)
        r = reported.result
        if r is None or reported.exit_code != 0:
            raise Blocked(f"warehouse: cannot read what SQLMesh environment {env.env} serves: "
                          f"{reported.error or 'component exited ' + str(reported.exit_code)}",
                          [reported.stderr_tail[-1000:]])
        if r.serving in (UNKNOWN_SERVING, ABSENT_SERVING):
            state = "" if r.finalized or not r.exists else ", not finalized"
            return f"{r.serving}:{r.snapshots} snapshots{state}"
        return r.serving

    def _live(self, env: EnvContext) -> str | None:
        live = self._root(env) / LIVE_FILE
        try:
            sha = live.read_text().strip()
        except OSError:
            return None
        if re.fullmatch(r"[0-9a-f]{64}", sha) and (self.project_dir(env, sha) / COMPLETE_MARKER).exists():
            return sha
        return None

    def restore_hint(self, env: EnvContext, artifact: Artifact) -> str:
        """How an operator makes SQLMesh serve ``artifact`` again when no pin of it is left (recovery's refusal)."""
        folder = self.project_dir(env, artifact.sha256)
        return (f"rebuild its snapshots with the warehouse entry point (`{ENTRY_POINT} plan "
                f"{' '.join(self._engine_args(env, folder))} --env {env.env} --apply` plus `--ack MODEL` for the "
                f"release's acknowledgements); the next command then switches {env.env} to it from the loaded project")

    def switch(self, req: SwitchRequest) -> DeployOutcome:
        return self._switch(req.artifact, req.env, rollback=req.mode == SwitchMode.ROLLBACK, acks=req.acks)

    def clear(self, req: ClearRequest) -> DeployOutcome:  # one artifact of this kind per env
        """First-ever deployment failed verification: forget the LIVE pointer (nothing to go back to).

        The SQLMesh environment keeps the failed snapshots' views until the next deploy re-plans it; SQLMesh has no
        "empty environment" to switch to, and prod cannot be invalidated.
        """
        env = req.env
        live = self._root(env) / LIVE_FILE
        if live.exists():
            live.unlink()
            fsync_dir(self._root(env))
            return DeployOutcome(changed=True, message="removed live warehouse pointer (no previous project existed)")
        return DeployOutcome(changed=False, message="no live warehouse project")

    def _switch(self, artifact: Artifact, env: EnvContext, rollback: bool, acks: tuple[str, ...]) -> DeployOutcome:
        previous = self._live(env)
        # Recovery switches back in rollback mode when SQLMesh serves something other than LIVE says (``current``), so
        # for a rollback LIVE naming the target proves nothing: only what SQLMesh serves (one ``serving`` call) does.
        if previous == artifact.sha256 and (not rollback or self.serving(env, previous) == previous):
            return DeployOutcome(changed=False, message=f"{artifact.name}@{artifact.sha256[:12]} already live",
                                 evidence={"sha256": artifact.sha256}, name=artifact.name, sha256=artifact.sha256)
        folder = self.ensure_extracted(artifact, env)
        # Known-good snapshot set of this digest in SQLMesh state (a pin of a verified env): the component switches
        # the env to it without loading the project, or falls back to loading it (and says why).
        args = ["plan", *self._engine_args(env, folder), "--env", env.env, "--apply", "--verify",
                *state_sources(env.env_dir, artifact.sha256)]
        if not (rollback and artifact.sha256 in pins(self._root(env))):  # a known-good rollback target is pinned already
            pin, unpin = pin_plan(env.env, self._root(env), artifact.sha256, self.keep_known_good)
            args += ["--pin", pin]
            for old in unpin:
                args += ["--unpin", old]
        if rollback:
            args.append("--virtual-only")  # known-good snapshots are reused as they are: no ack, no recompute
        else:
            for a in sorted(set(acks)):
                args += ["--ack", a]
        reported = _call(env, WarehousePlanReport, *args)
        p = reported.result
        if p is None or reported.exit_code != 0 or not p.ok:
            verb = "roll back" if rollback else "deploy"
            why = reported.error if p is None else p.error
            details = [] if p is None else [f"categories: {p.categories}", f"needs_ack: {p.needs_ack}",
                                            f"snapshots_gone: {p.snapshots_gone}"]
            raise Blocked(f"warehouse: cannot {verb} {artifact.name}@{artifact.sha256[:12]} in {env.env}: "
                          f"{why or 'component exited ' + str(reported.exit_code)}",
                          [*details, reported.stderr_tail[-1000:]])
        self._write_live(env, artifact.sha256)
        verified = None
        if p.verify is not None:
            verified = dataclasses.replace(p.verify, pins=p.pins)
            remember_pins(env.env, self._root(env), artifact.sha256, p.pins, self.keep_known_good)
        evidence = {
            "from": previous, "to": artifact.sha256, "path": str(folder), "sqlmesh_environment": env.env,
            "categories": p.categories, "backfill": [b.to_dict() for b in p.backfill],
            "rows_recomputed": p.rows_recomputed, "rows_recomputed_by_model": p.rows_recomputed_by_model,
            "virtual_update": p.virtual_update, "needs_ack": p.needs_ack, "acknowledged": p.acknowledged,
            "timings": p.timings, "pins": p.pins.to_dict() if p.pins is not None else None,
            # a virtual update made from SQLMesh state over this source env's snapshots (no project load), or why
            # that was refused before the project was loaded instead
            "from_state": p.from_state, "state_fallback": p.state_fallback,
            "audits_skipped": p.verify.audits_skipped if p.verify is not None else None,
        }
        kind = "virtual update" if p.virtual_update else "backfill"
        if p.from_state:
            kind += f" from SQLMesh state ({p.from_state})"
        verb = "rolled back to" if rollback else "deployed"
        return DeployOutcome(changed=True, evidence=evidence, verified=verified, name=artifact.name,
                             sha256=artifact.sha256,
                             message=f"{verb} {artifact.name}@{artifact.sha256[:12]} ({kind}, "
                                     f"{p.rows_recomputed} rows recomputed)")

    def projects_root(self, env: EnvContext) -> Path:
        """``<warehouse dir>/projects``: one extracted project per digest, shared by every env of the warehouse."""
        return self.warehouse_paths(env)[0].parent / "projects"

    def project_dir(self, env: EnvContext, sha: str) -> Path:
        return self.projects_root(env) / sha

    def ensure_extracted(self, artifact: Artifact, env: EnvContext) -> Path:
        """The project of ``artifact``, extracted once per digest for every env (see ``warehouse_projects``)."""
        return extract_shared(Path(env.artifact_path(artifact)), artifact.sha256, self.projects_root(env))

    # ---- internals -----------------------------------------------------------------------------------------------
    def _write_live(self, env: EnvContext, sha: str) -> None:
        root = self._root(env)
        root.mkdir(parents=True, exist_ok=True)
        tmp = root / f".{LIVE_FILE}.tmp.{os.getpid()}"
        with open(tmp, "w") as fh:
            fh.write(sha + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, root / LIVE_FILE)
        fsync_dir(root)


def _call(env: EnvContext, record: type[R], subcommand: str, *args: str) -> Reported[R]:
    """Run one ``warehouse`` subcommand and read its answer as ``record`` (see ``runner.call``)."""
    return call(env.runner, ENTRY_POINT, [subcommand, *args], record, subcommand=subcommand)


SPEC = KindSpec(
    kind=ArtifactKind.WAREHOUSE_PROJECT, title="warehouse project", source_roots=(SOURCE,), entry_point=ENTRY_POINT,
    entry_point_target="dbt:warehouse", adapter=WarehouseAdapter, gates=("warehouse_audit", "data_quality", "contract"),
    # The switch itself reads the env's tables in the same process (and audits them after any backfill; a pure
    # virtual update re-points at snapshots audited when built): FULL is free.
    rollback_verify=VerifyMode.FULL, verify_env_dependent=True, warm_start="plan",
    change_note=("warehouse project changed: SQLMesh categorizes each model at deploy; a breaking change to a finance "
                 "model or any forward-only change needs `./release build --ack-breaking MODEL`"))
