"""DAG bundle adapter (kind DAG_BUNDLE): Airflow DAG files packaged as one deterministic, content-addressed tarball.

Why this shape:
* package: files are read from the git commit (not the working tree) and written with fixed metadata (sorted entries,
  mtime 0, uid/gid 0, empty owner names, mode 0644, gzip mtime 0), so the same commit always yields identical bytes and
  therefore the same sha256 -- "built once, promoted unchanged".
* deploy: each digest is extracted once into ``<env_dir>/dag_bundles/<sha256>/`` (temp dir + rename, ``.complete``
  marker written last) and ``<env_dir>/dags`` is a symlink switched with ``os.replace`` -- an atomic rename, so after a
  SIGKILL at any instant the env sees either the old or the new bundle, never a mix.
* rollback is the same switch to an older folder: no rebuild and no re-import before the swap, hence seconds.
* The digest depends on the bundle's content only: the manifest lists the files and their hashes, never the commit or
  the release, so a release that does not touch a DAG ships the same digest and the env's bundle is not redeployed.
* verify FULL runs the DagBag on the live folder; INTEGRITY re-hashes every live file against the bundle manifest.
* The bundle also carries the checker's inputs from the same commit (``CHECK_INPUTS``): the catalog's
  ``pipelines/*.yaml`` (the SLA and Spark job of every task a DAG runs) and the legacy exemptions file, so a check of
  a bundle -- before deploy or on rollback verify -- judges it against its own commit, never the working tree.
  Airflow ignores them (they are not ``*.py``); a catalog change therefore changes the bundle's digest too.
The DagBag check itself runs in the Airflow environment through the ``dagbag_check`` component entry point, whose
answer is the typed ``northstar_contracts.airflow.DagbagReport``.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import shutil
import tarfile
import tempfile
from pathlib import Path

from northstar_contracts.airflow import DagbagReport
from northstar_release import faults, gitutil
from northstar_release.adapters.base import (
    BuildContext,
    CheckRequest,
    ClearRequest,
    DeployOutcome,
    EnvContext,
    Reported,
    SwitchRequest,
    VerifyRequest,
    manifest_integrity,
)
from northstar_release.fsutil import fsync_dir, sha256_file
from northstar_release.kinds.spec import KindSpec
from northstar_release.model import Artifact, ArtifactKind, GateOutcome, GateResult
from northstar_release.runner import call
from northstar_release.stages import SwitchMode, VerifyMode

ARTIFACT_NAME = "airflow-dags"
# (source folder in the repo, folder inside the bundle, pass-through?)
SOURCES: tuple[tuple[str, str, bool], ...] = (
    ("airflow/dags", "dags", False),
    ("legacy/legacy_dags", "legacy", True),
)
# (repo path or folder, path in the bundle, file suffix): data the dagbag_check reads, not DAGs.
CATALOG_IN_BUNDLE = "catalog"
EXEMPTIONS_IN_BUNDLE = "legacy_exemptions.yaml"
CHECK_INPUTS: tuple[tuple[str, str, str], ...] = (
    ("pipelines/catalog/pipelines", CATALOG_IN_BUNDLE, ".yaml"),
    ("legacy/dag_exemptions.yaml", EXEMPTIONS_IN_BUNDLE, ".yaml"),
)
MANIFEST = "MANIFEST.json"
COMPLETE_MARKER = ".complete"
ENTRY_POINT = "dagbag_check"


def bundle_files(repo: Path, commit: str) -> dict[str, bytes]:
    """Bundle path -> file bytes for every ``*.py`` under the source folders, plus the check inputs, at ``commit``."""
    files: dict[str, bytes] = {}
    for src, dest, _ in SOURCES:
        for path, oid in gitutil.list_tree(repo, commit, src):
            if path.endswith(".py"):
                files[f"{dest}/{path[len(src) + 1:]}"] = gitutil.read_blob(repo, oid)
    for src, dest, suffix in CHECK_INPUTS:
        for path, oid in gitutil.list_tree(repo, commit, src):
            if path == src:  # a single file
                files[dest] = gitutil.read_blob(repo, oid)
            elif path.endswith(suffix):
                files[f"{dest}/{path[len(src) + 1:]}"] = gitutil.read_blob(repo, oid)
    return files


def write_deterministic_tarball(out: Path, files: dict[str, bytes]) -> None:
    """Write a .tar.gz whose bytes depend only on ``files`` (names and contents)."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name in sorted(files):
            data = files[name]
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = 0
            info.mode = 0o644
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            tar.addfile(info, io.BytesIO(data))
    with open(out, "wb") as fh, gzip.GzipFile(filename="", mode="wb", fileobj=fh, mtime=0) as gz:
        gz.write(raw.getvalue())


class DagBundleAdapter:
    kind = ArtifactKind.DAG_BUNDLE

    # ---- build ---------------------------------------------------------------------------------------------------
    def package(self, ctx: BuildContext) -> list[Path]:
        files = bundle_files(ctx.repo_root, ctx.git_commit)
        # Content only: no commit, no release id, no pins of other artifacts (the infra version map pins them), so an
        # unchanged DAG folder keeps its digest across releases.
        manifest = {
            "files": {p: hashlib.sha256(b).hexdigest() for p, b in sorted(files.items())},
            "pass_through": [f"{dest}/" for _, dest, pt in SOURCES if pt],
        }
        files[MANIFEST] = (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode()
        out = ctx.work_dir / f"{ARTIFACT_NAME}.tar.gz"
        write_deterministic_tarball(out, files)
        return [out]

    # ---- checks --------------------------------------------------------------------------------------------------
    def check(self, req: CheckRequest) -> GateResult:
        """Extract to a temp dir and run the DagBag check there; the env is untouched."""
        artifact, env = req.artifact, req.env
        with tempfile.TemporaryDirectory(prefix="dag-bundle-check-") as tmp:
            root = Path(tmp) / "bundle"
            _extract(Path(env.artifact_path(artifact)), root)
            return self._dagbag(root, env, target=f"{artifact.name}@{artifact.sha256[:12]}", gate="dag_bundle.check")

    def verify(self, req: VerifyRequest) -> GateResult:
        env = req.env
        live = env.env_dir / "dags"
        if not live.exists():
            return GateResult(gate="dag_bundle.verify", target=str(live), outcome=GateOutcome.FAILED,
                              summary="no DAG bundle is live")
        target = f"{env.env}:dags@{self._live_sha(env)[:12]}"
        if req.mode == VerifyMode.INTEGRITY:
            return _integrity(live, target)
        return self._dagbag(live, env, target=target, gate="dag_bundle.verify")

    def _live_sha(self, env: EnvContext) -> str:
        return self.on_disk(env).get(ARTIFACT_NAME, "?")

    def _dagbag(self, root: Path, env: EnvContext, target: str, gate: str) -> GateResult:
        args = [str(root / "dags")]
        for _, dest, pass_through in SOURCES:
            if pass_through:
                args += ["--pass-through", str(root / dest)]
        if (root / CATALOG_IN_BUNDLE).is_dir():
            args += ["--catalog", str(root / CATALOG_IN_BUNDLE)]
        if (root / EXEMPTIONS_IN_BUNDLE).is_file():
            args += ["--exemptions", str(root / EXEMPTIONS_IN_BUNDLE)]
        # No bytecode: the checked folder is a deployed (read-only) bundle; Python must not even try to write into it.
        return _gate_result(gate, target, call(env.runner, ENTRY_POINT, args, DagbagReport,
                                               env={"PYTHONDONTWRITEBYTECODE": "1"}))

    # ---- deploy --------------------------------------------------------------------------------------------------
    def on_disk(self, env: EnvContext) -> dict[str, str]:  # one artifact of this kind per env
        """The digest the live symlink names (cheap: no file is read)."""
        link = env.env_dir / "dags"
        if not link.is_symlink():
            return {}
        target = Path(os.readlink(link))
        return {ARTIFACT_NAME: target.name} if len(target.name) == 64 else {}

    def current(self, env: EnvContext) -> dict[str, str]:
        """What Airflow really parses: the symlinked digest only when the folder holds exactly that bundle's files
        (every manifest file with its sha256, nothing else -- no ``__pycache__``, no edited or added DAG); otherwise
        ``modified:<sha12> (<first difference>)``, which equals no digest, so recovery re-extracts the recorded one."""
        named = self.on_disk(env)
        sha = named.get(ARTIFACT_NAME)
        if sha is None:
            return {}
        problems = bundle_problems(env.env_dir / "dag_bundles" / sha)
        return named if not problems else {ARTIFACT_NAME: f"modified:{sha[:12]} ({problems[0]})"}

    def switch(self, req: SwitchRequest) -> DeployOutcome:
        return self._switch(req.artifact, req.env, verb="rolled back to" if req.mode == SwitchMode.ROLLBACK else "deployed")

    def restore_hint(self, env: EnvContext, artifact: Artifact) -> str:
        """The switch re-extracts the stored blob (when the extracted folder is not intact) and re-points the ``dags``
        symlink: it fails when that blob is missing or corrupt or the env's folders cannot be written, and the bundle
        stays "modified" while something writes into the extracted folder."""
        return (f"put the DAG bundle blob {artifact.uri} (sha256 {artifact.sha256[:12]}) back into the artifact store "
                f"intact and let nothing write into {env.env_dir / 'dag_bundles' / artifact.sha256} (no edits, no "
                f"__pycache__): the switch then re-extracts it and points {env.env_dir / 'dags'} at it")

    def clear(self, req: ClearRequest) -> DeployOutcome:  # one artifact of this kind per env
        """Remove the live symlink (used only when a first-ever deployment fails verification: nothing to go back to)."""
        link = req.env.env_dir / "dags"
        if link.is_symlink():
            link.unlink()
            return DeployOutcome(changed=True, message="removed live DAG bundle (no previous bundle existed)")
        return DeployOutcome(changed=False, message="no live DAG bundle")

    def _switch(self, artifact: Artifact, env: EnvContext, verb: str) -> DeployOutcome:
        previous = self.on_disk(env).get(ARTIFACT_NAME)
        if self.current(env).get(ARTIFACT_NAME) == artifact.sha256:  # named by the link AND intact
            return DeployOutcome(changed=False, message=f"{artifact.name}@{artifact.sha256[:12]} already live",
                                 evidence={"sha256": artifact.sha256}, name=artifact.name, sha256=artifact.sha256)
        folder = self.ensure_extracted(artifact, env)
        link = env.env_dir / "dags"
        tmp_link = env.env_dir / f".dags.tmp.{os.getpid()}"
        if tmp_link.is_symlink() or tmp_link.exists():
            tmp_link.unlink()
        os.symlink(os.path.relpath(folder, env.env_dir), tmp_link)
        faults.point(f"switch:{self.kind.value}")
        os.replace(tmp_link, link)  # atomic: readers see the old or the new bundle
        fsync_dir(env.env_dir)
        return DeployOutcome(changed=True, message=f"{verb} {artifact.name}@{artifact.sha256[:12]}",
                             evidence={"from": previous, "to": artifact.sha256, "path": str(folder)},
                             name=artifact.name, sha256=artifact.sha256)

    def ensure_extracted(self, artifact: Artifact, env: EnvContext) -> Path:
        """Extract once per digest, read-only. A folder without the .complete marker (a crashed extraction) or whose
        files no longer match its manifest (written into after deployment) is replaced by a fresh extraction."""
        bundles = env.env_dir / "dag_bundles"
        bundles.mkdir(parents=True, exist_ok=True)
        final = bundles / artifact.sha256
        if final.exists() and not bundle_problems(final):
            return final
        blob = Path(env.artifact_path(artifact))
        digest = sha256_file(blob)
        if digest != artifact.sha256:
            raise RuntimeError(f"artifact store blob for {artifact.name} has sha256 {digest}, expected {artifact.sha256}")
        tmp = Path(tempfile.mkdtemp(prefix=f".{artifact.sha256[:12]}.", dir=bundles))
        _extract(blob, tmp)
        (tmp / COMPLETE_MARKER).write_text(artifact.sha256 + "\n")
        _make_read_only(tmp)
        if final.exists():  # incomplete leftover from a crash, or a bundle written into: set aside, then removed
            aside = bundles / f".bad.{artifact.sha256[:12]}.{os.getpid()}"
            os.rename(final, aside)
            os.rename(tmp, final)
            _remove_tree(aside)
        else:
            os.rename(tmp, final)
        fsync_dir(bundles)
        return final


def _extract(blob: Path, dest: Path) -> None:
    dest.mkdir(parents=True, exist_ok=True)
    with tarfile.open(blob, "r:gz") as tar:
        tar.extractall(dest, filter="data")
    for _, folder, _pt in SOURCES:
        (dest / folder).mkdir(exist_ok=True)  # the checker expects both folders even if one is empty


def bundle_problems(folder: Path) -> list[str]:
    """Why ``folder`` is not exactly its bundle: no completion marker, a manifest file missing or changed, or a file
    the manifest does not list (``__pycache__`` included: a deployed artifact must never change). Empty: intact."""
    if not (folder / COMPLETE_MARKER).is_file():
        return ["extraction incomplete" if folder.exists() else "bundle folder missing"]
    try:
        files: dict[str, str] = json.loads((folder / MANIFEST).read_text())["files"]
    except (OSError, ValueError, KeyError) as exc:
        return [f"unreadable {MANIFEST}: {exc}"]
    problems = []
    for rel, digest in sorted(files.items()):
        path = folder / rel
        actual = sha256_file(path) if path.is_file() else None
        if actual != digest:
            problems.append(f"{rel} {'missing' if actual is None else 'changed'}")
    known = {*files, MANIFEST, COMPLETE_MARKER}
    problems += [f"{p.relative_to(folder)} added" for p in sorted(folder.rglob("*"))
                 if not p.is_dir() and str(p.relative_to(folder)) not in known]
    return problems


def _make_read_only(folder: Path) -> None:
    """Files 0444, folders 0555: nothing (a DagBag writing ``__pycache__``, an operator's edit) changes a deployed
    bundle by accident; ``current`` catches what a chmod'ing writer does anyway."""
    for path in sorted(folder.rglob("*"), reverse=True):
        path.chmod(0o555 if path.is_dir() else 0o444)
    folder.chmod(0o555)


def _remove_tree(folder: Path) -> None:
    for path in [folder, *folder.rglob("*")]:
        if path.is_dir() and not path.is_symlink():
            path.chmod(0o755)
    shutil.rmtree(folder)


def _integrity(live: Path, target: str) -> GateResult:
    """Every file the live bundle's manifest lists is present with the listed sha256 (no Airflow needed)."""
    return manifest_integrity(live, MANIFEST, gate="dag_bundle.verify", target=target, what="live DAG")


def _gate_result(gate: str, target: str, reported: Reported[DagbagReport]) -> GateResult:
    report = reported.result
    if report is None:  # the entry point printed an ErrorRecord: it could not even produce a report
        ok, summary = False, f"dagbag_check failed: {reported.error}"
    else:
        ok = reported.exit_code == 0 and report.ok
        summary = _clean(report) if ok else _problems(report)
        if not ok and not summary:
            summary = f"dagbag_check exited {reported.exit_code}"
    evidence = reported.record.to_dict()
    if reported.stderr_tail and not ok:
        evidence["stderr_tail"] = reported.stderr_tail[-2000:]
    return GateResult(gate=gate, target=target, outcome=GateOutcome.PASSED if ok else GateOutcome.FAILED,
                      summary=summary, evidence=evidence)


def _clean(report: DagbagReport) -> str:
    """Files and DAGs are counted separately: a shipped file that yields no DAG cannot vanish from the count."""
    text = f"{len(report.dag_ids)} DAG(s) import cleanly, no policy violations"
    if report.parse_seconds:
        slowest = max(report.parse_seconds, key=lambda f: report.parse_seconds[f])
        budget = f" (budget {report.parse_budget_seconds:g} s)" if report.parse_budget_seconds else ""
        text = (f"{len(report.parse_seconds)} file(s), {text}; slowest parse {report.parse_seconds[slowest]:.2f} s "
                f"{slowest}{budget}")
    if report.exempted:
        owners = sorted({e.owner for e in report.exempted})
        text += f"; {len(report.exempted)} legacy finding(s) exempted (owners: {', '.join(owners)})"
    return text


def _problems(report: DagbagReport) -> str:
    parts = []
    if report.import_errors:
        shown = [f"{f}: {_last_line(m)}" for f, m in list(report.import_errors.items())[:5]]
        parts.append(f"{len(report.import_errors)} import error(s): " + "; ".join(shown))
    if report.policy_violations:
        rules = sorted({v.rule for v in report.policy_violations})
        parts.append(f"{len(report.policy_violations)} violation(s) [{', '.join(rules)}]: " + "; ".join(
            f"{v.file}: {v.dag_id + ': ' if v.dag_id else ''}{v.rule}: {v.message}"
            for v in report.policy_violations[:5]))
    return " | ".join(parts)


def _last_line(message: object) -> str:
    """The last line of a traceback is the one that names the error; keep summaries to that."""
    text = str(message).strip()
    return text.splitlines()[-1] if text else text


SPEC = KindSpec(
    kind=ArtifactKind.DAG_BUNDLE, title="DAG bundle", source_roots=("airflow", "legacy"), entry_point=ENTRY_POINT,
    entry_point_target="airflow:dagbag_check", adapter=DagBundleAdapter, gates=("dag_integrity",),
    rollback_verify=VerifyMode.FULL, verify_env_dependent=False,
    change_note="")
