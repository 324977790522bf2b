"""``./release``: the command line of the release system (click).

Exit codes (a contract with CI): 0 done (including idempotent no-ops); 1 blocked by a gate or policy (reasons printed);
2 bad input/usage (unknown env or release, malformed environments.yaml, dirty tree, missing component); 3 the
environment's lock is held by another operation (pass ``--wait`` to queue instead).

``--json`` prints exactly one JSON document on stdout; progress lines always go to stderr.

Environment: NORTHSTAR_STATE_DIR, NORTHSTAR_STATE_URL (``postgresql://...`` for team-shared state),
NORTHSTAR_ENVIRONMENTS (path of environments.yaml), NORTHSTAR_NOW (ISO-8601 "current time" for tests and freeze
drills), NORTHSTAR_ENTRYPOINT_<NAME> (component entry point command lines, see runner.py), NORTHSTAR_TEST_PAUSE_AT
(test-only, see evaluator.py).
"""

from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from rich.console import Console
from rich.table import Table

from northstar_release import gitutil, policy
from northstar_release.errors import Blocked, ReleaseError, UsageError

if TYPE_CHECKING:
    from northstar_release.evaluator import Runtime

OUT = Console(soft_wrap=True)
ERR = Console(stderr=True, soft_wrap=True)
PACKAGE_REPO = Path(__file__).resolve().parents[2]


class App:
    """Lazily-built collaborators for one CLI invocation."""

    def __init__(self, state_dir: Path | None, state_url: str | None, actor: str | None,
                 oidc_token: Path | None = None) -> None:
        self.repo = gitutil.repo_root(Path.cwd()) or PACKAGE_REPO
        self.state_dir = (state_dir or self.repo / ".release-state").absolute()
        self.state_url = state_url or None
        self._actor = actor
        self._oidc_token = oidc_token
        self._identity = None
        self._store = None
        self._envs = None
        self.json = False

    def _asserted_actor(self) -> tuple[str, str] | None:
        """The self-asserted identity and where it came from (for messages), or None."""
        if self._actor is not None:
            return self._actor, "--as"
        for var in ("NORTHSTAR_ACTOR", "GITHUB_ACTOR", "CI_ACTOR", "GITLAB_USER_EMAIL", "BUILDKITE_BUILD_CREATOR_EMAIL"):
            if os.environ.get(var):
                return os.environ[var], var
        proc = subprocess.run(["git", "-C", str(self.repo), "config", "user.email"], capture_output=True, text=True)
        if proc.returncode == 0 and proc.stdout.strip():
            return proc.stdout.strip(), "git config user.email"
        return None

    def identity_for(self, asserted: str | None = None, source: str = "--as"):
        """Who acts: verified from the OIDC token (--oidc-token) when given, else normalized and marked unverified."""
        from northstar_release.identity import OidcPolicy, resolve_identity, unverified

        if self._oidc_token is not None:
            try:
                token = self._oidc_token.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise UsageError(f"{self._oidc_token}: cannot read the OIDC token ({exc})") from exc
            claimed = asserted if asserted is not None else self._actor
            return resolve_identity(claimed, token, OidcPolicy.from_env())
        if asserted is not None:
            return unverified(asserted, field=source)
        found = self._asserted_actor()
        if found is None:
            raise UsageError("cannot tell who you are: pass --as USER, set GITHUB_ACTOR/CI_ACTOR, or git config "
                             "user.email")
        return unverified(found[0], field=found[1])

    @property
    def identity(self):
        if self._identity is None:
            self._identity = self.identity_for()
        return self._identity

    @property
    def actor(self) -> str:
        return self.identity.subject

    @property
    def environments(self):
        if self._envs is None:
            from northstar_release.environments import load_environments

            path = Path(os.environ.get("NORTHSTAR_ENVIRONMENTS") or self.repo / "pipelines" / "environments.yaml")
            self._envs = load_environments(path)
        return self._envs

    def env(self, name: str):
        from northstar_release.environments import require_env

        return require_env(self.environments, name)

    @property
    def store(self):
        if self._store is None:
            from northstar_release.state import open_store

            self.state_dir.mkdir(parents=True, exist_ok=True)
            self._store = open_store(self.state_url, self.state_dir)
        return self._store

    @property
    def artifacts(self):
        from northstar_release.artifact_store import LocalArtifactStore

        return LocalArtifactStore(self.state_dir / "artifacts")

    def release(self, release_id: str):
        release = self.store.get_release(release_id)
        if release is None:
            raise UsageError(f"unknown release '{release_id}' (run ./release build, or ./release status to list)")
        return release

    def runtime(self):
        from northstar_release.adapters.base import EnvContext
        from northstar_release.adapters.registry import default_adapters
        from northstar_release.evaluator import Runtime
        from northstar_release.runner import SubprocessComponentRunner

        runner = SubprocessComponentRunner(self.repo)
        artifacts = self.artifacts

        def env_context(env: str) -> EnvContext:
            env_dir = self.state_dir / "envs" / env
            env_dir.mkdir(parents=True, exist_ok=True)
            return EnvContext(env=env, env_dir=env_dir, artifact_path=lambda a: artifacts.path_for(a.sha256),
                              runner=runner)

        return Runtime(store=self.store, environments=self.environments, adapters=default_adapters(),
                       env_context=env_context, now=lambda: policy.now_utc(),
                       progress=lambda m: ERR.print(m, highlight=False, markup=False),
                       component_seconds=lambda: runner.seconds_in_components)

    def actual_live(self, rt, env: str) -> dict[tuple[str, str], str | None]:
        ctx = rt.env_context(env)
        out = {}
        for kind, adapter in rt.adapters.items():
            for (k, n) in rt.store.live(env):
                if k == kind.value:
                    out[(k, n)] = adapter.current(ctx, n)
        return out


def emit(app: App, doc: dict[str, Any], human: Callable[[], None]) -> None:
    if app.json:
        click.echo(json.dumps(doc, indent=2, sort_keys=True, default=str))
    else:
        human()


def command(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Map exceptions to exit codes and print reasons (as one JSON document under --json)."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        ctx = click.get_current_context()
        app: App = ctx.obj
        app.json = bool(kwargs.get("as_json"))
        from northstar_release.artifact_store import ArtifactStoreError
        from northstar_release.state.base import LockHeld, StateError

        try:
            return fn(*args, **kwargs)
        except (ReleaseError, LockHeld, StateError, ArtifactStoreError) as exc:
            if isinstance(exc, ReleaseError):
                code, message, reasons = exc.exit_code, exc.message, exc.reasons
            elif isinstance(exc, LockHeld):
                code, message, reasons = 3, str(exc), ["retry later, or pass --wait to queue for the lock"]
            else:
                code, message, reasons = 2, str(exc), []
            if app.json:
                click.echo(json.dumps({"ok": False, "exit_code": code, "error": message, "reasons": reasons},
                                      indent=2))
            else:
                label = {1: "BLOCKED", 2: "ERROR", 3: "LOCKED"}[code]
                ERR.print(f"[bold red]{label}[/]: {message}", highlight=False)
                for r in reasons:
                    ERR.print(f"  - {r}", highlight=False, markup=False)
            sys.exit(code)
        except OSError as exc:
            # e.g. an unwritable state dir: bad input, not a policy decision, so never exit 1 ("blocked").
            _fail(app, 2, f"{type(exc).__name__}: {exc}", ["check --state-dir / NORTHSTAR_STATE_DIR and permissions"])

    return wrapper


def _fail(app: App, code: int, message: str, reasons: list[str]) -> None:
    if app.json:
        click.echo(json.dumps({"ok": False, "exit_code": code, "error": message, "reasons": reasons}, indent=2))
    else:
        ERR.print(f"[bold red]ERROR[/]: {message}", highlight=False, markup=True)
        for r in reasons:
            ERR.print(f"  - {r}", highlight=False, markup=False)
    sys.exit(code)


json_option = click.option("--json", "as_json", is_flag=True, help="Print exactly one JSON document on stdout.")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--state-dir", type=click.Path(path_type=Path), envvar="NORTHSTAR_STATE_DIR",
              help="Local state (SQLite, artifacts, env dirs). Default <repo>/.release-state.")
@click.option("--state-url", envvar="NORTHSTAR_STATE_URL",
              help="State database URL; postgresql://... for team-shared state. Default SQLite in the state dir.")
@click.option("--as", "actor", help="Who is acting (default: GITHUB_ACTOR/CI_ACTOR, else git config user.email). "
              "Self-asserted: recorded as unverified.")
@click.option("--oidc-token", "oidc_token", type=click.Path(path_type=Path, dir_okay=False),
              envvar="NORTHSTAR_OIDC_TOKEN_FILE",
              help="File holding the CI's OIDC token (JWT): the actor is taken from it, verified against the issuer's "
                   "key set (NORTHSTAR_OIDC_JWKS, NORTHSTAR_OIDC_REPOSITORY, NORTHSTAR_OIDC_ISSUER/_AUDIENCE).")
@click.pass_context
def main(ctx: click.Context, state_dir: Path | None, state_url: str | None, actor: str | None,
         oidc_token: Path | None) -> None:
    """Northstar release: build once, promote unchanged dev -> staging -> prod through gates, roll back in seconds."""
    ctx.obj = App(state_dir, state_url, actor, oidc_token)


# ---------------------------------------------------------------------------------------------------------- plan ---
@main.command("plan")
@click.option("--since", help="Git ref to diff against (default: the commit live in prod, else HEAD~1).")
@click.option("--markdown", is_flag=True, help="Print a Markdown summary for a PR comment.")
@json_option
@click.pass_obj
@command
def plan_cmd(app: App, since: str | None, markdown: bool, as_json: bool) -> None:
    """Show which release units, gates and approvals the changes since REF need."""
    from northstar_release.changes import SubprocessPants, compute_change_plan, to_markdown

    if since is None:
        since = "HEAD~1"
        try:
            from northstar_release.plan import live_release_id

            rid = live_release_id(app.store, "prod") if "prod" in app.environments else None
            if rid and (rel := app.store.get_release(rid)):
                since = rel.git_commit
        except ReleaseError:
            raise
    cp = compute_change_plan(app.repo, since, SubprocessPants(app.repo), app.environments)

    def human() -> None:
        if markdown:
            click.echo(to_markdown(cp))
            return
        table = Table(title=f"changes since {since}: {len(cp.files)} file(s)")
        for col in ("unit", "targets", "files", "tags", "gates"):
            table.add_column(col)
        for u in cp.units:
            table.add_row(u.kind.value, str(len(u.targets)), str(len(u.files)), ", ".join(u.tags) or "-",
                          ", ".join(u.gates))
        OUT.print(table)
        for env, n in cp.approvals.items():
            OUT.print(f"approvals: {env} needs {n} (not the author)", highlight=False)
        for note in cp.risk_notes:
            OUT.print(f"risk: {note}", highlight=False, markup=False)

    if markdown and as_json:
        raise UsageError("choose one of --markdown and --json")
    emit(app, cp.to_json(), human)


# --------------------------------------------------------------------------------------------------------- build ---
@main.command("build")
@click.option("--tag", "tags", multiple=True, help="Extra release tag (e.g. finance); tags only add restrictions.")
@click.option("--ack-breaking", "acks", multiple=True, metavar="MODEL",
              help="Acknowledge a breaking change to a finance model or a forward-only change (recorded as tag "
                   "ack:MODEL in the release and its audit entry). Give it on the first build of the commit.")
@click.option("--since", help="Tag the release with the Pants tags of targets changed since REF "
              "(default: the commit live in prod; every policy tag in the repo when prod is empty).")
@json_option
@click.pass_obj
@command
def build_cmd(app: App, tags: tuple[str, ...], acks: tuple[str, ...], since: str | None, as_json: bool) -> None:
    """Build HEAD into a release (refuses a dirty tree; same commit -> same release, a no-op)."""
    from northstar_release.adapters.registry import default_adapters
    from northstar_release.build import build
    from northstar_release.plan import live_release_id

    all_tags = set(tags) | {f"ack:{model}" for model in acks}
    live = live_release_id(app.store, "prod")
    live_release = app.store.get_release(live) if live else None
    prod_commit = live_release.git_commit if live_release else None
    if (app.repo / "pants").exists():
        # Policy tags are computed, not opt-in: against the commit live in prod unless --since says otherwise.
        from northstar_release.changes import SubprocessPants, release_tags

        since = since or prod_commit
        computed, why = release_tags(app.repo, since, SubprocessPants(app.repo))
        all_tags |= computed
        ERR.print(f"release tags {sorted(computed) or '[]'} ({why})", highlight=False, markup=False)
    elif since:
        raise UsageError("--since needs Pants (./pants) in the repository to map changed files to targets")
    result = build(app.repo, app.store, app.artifacts, default_adapters(), app.actor, tags=sorted(all_tags),
                   ignore_paths=[app.state_dir], contributors_since=prod_commit,
                   progress=lambda m: ERR.print(m, highlight=False, markup=False))
    rel = result.release

    def human() -> None:
        OUT.print(f"{rel.id} ({'built' if result.created else 'already built, no-op'})", highlight=False)
        for a in rel.artifacts:
            OUT.print(f"  {a.kind.value} {a.name} sha256={a.sha256}", highlight=False)

    emit(app, {"ok": True, "created": result.created, "release": rel.to_json()}, human)


# ------------------------------------------------------------------------------------------------ deploy/promote ---
def _run_plan(app: App, rt: Runtime, plan, release, dry_run: bool, wait: bool, reason: str = "") -> None:
    from northstar_release.evaluator import apply
    from northstar_release.plan import explain

    table, doc = explain(plan)
    if dry_run:
        emit(app, {"ok": True, "dry_run": True, "plan": doc}, lambda: OUT.print(table))
        return
    if not app.json:
        ERR.print(table)
    started, component_before = time.monotonic(), rt.component_seconds()
    result = apply(plan, release, rt, wait=wait, reason=reason)
    elapsed = time.monotonic() - started
    component = rt.component_seconds() - component_before
    timing = {"total_s": round(elapsed, 3), "component_s": round(component, 3), "engine_s": round(elapsed - component, 3)}
    out = {"ok": result.exit_code == 0, "plan": doc, "elapsed_s": round(elapsed, 3), "timing": timing, **result.to_json()}

    def human() -> None:
        colour = {"succeeded": "green", "noop": "green", "blocked": "red", "failed": "red"}.get(result.status, "white")
        OUT.print(f"[{colour}]{result.status}[/]: {plan.action} {release.id} -> {plan.env} "
                  f"(deployment #{result.deployment_id}, {elapsed:.2f}s: engine {timing['engine_s']:.2f}s, "
                  f"component entry points {component:.2f}s)", highlight=False)
        for r in result.reasons:
            OUT.print(f"  - {r}", highlight=False, markup=False)
        for m in result.messages:
            OUT.print(f"  {m}", highlight=False, markup=False)

    emit(app, out, human)
    if result.exit_code:
        sys.exit(result.exit_code)


def _deploy(app: App, release_id: str, env_name: str, action: str, dry_run: bool, wait: bool) -> None:
    from northstar_release.plan import plan_deploy

    env = app.env(env_name)
    release = app.release(release_id)
    identity = _checked_identity(app, env)
    rt = app.runtime()
    plan = plan_deploy(release, env, action, app.actor, app.store, app.environments, rt.now(),
                       actual=app.actual_live(rt, env.name))
    _run_plan(app, rt, _with_identity(plan, identity), release, dry_run, wait)


def _checked_identity(app: App, env):
    """The acting identity; refused (exit 1) when ``env`` requires a CI-verified one and it is self-asserted."""
    from northstar_release.identity import require_verified

    identity = app.identity
    require_verified(env.name, env.require_verified_identity, identity)
    return identity


def _with_identity(plan, identity):
    """Put the identity record into the plan's notes: the plan is in the hash-chained ``<action>.start`` entry, so
    whether the deployer was CI-verified (and the digest of the token's claims) is chained with the deployment."""
    note = "identity: " + json.dumps(identity.to_json(), sort_keys=True)
    return plan.model_copy(update={"notes": (*plan.notes, note)})


@main.command("deploy")
@click.argument("release_id", metavar="RELEASE")
@click.option("--env", "env_name", required=True, help="Target environment.")
@click.option("--dry-run", is_flag=True, help="Render the plan; change nothing.")
@click.option("--wait", is_flag=True, help="Wait for the environment lock instead of exiting 3.")
@json_option
@click.pass_obj
@command
def deploy_cmd(app: App, release_id: str, env_name: str, dry_run: bool, wait: bool, as_json: bool) -> None:
    """Deploy RELEASE into ENV (checks, gates, atomic switch, verify). Idempotent."""
    _deploy(app, release_id, env_name, "deploy", dry_run, wait)


@main.command("promote")
@click.argument("release_id", metavar="RELEASE")
@click.option("--to", "env_name", required=True, help="Environment to promote into.")
@click.option("--dry-run", is_flag=True, help="Render the plan; change nothing.")
@click.option("--wait", is_flag=True, help="Wait for the environment lock instead of exiting 3.")
@json_option
@click.pass_obj
@command
def promote_cmd(app: App, release_id: str, env_name: str, dry_run: bool, wait: bool, as_json: bool) -> None:
    """Promote RELEASE (unchanged artifacts) into ENV; it must have succeeded in the previous env."""
    _deploy(app, release_id, env_name, "promote", dry_run, wait)


# ------------------------------------------------------------------------------------------------------- approve ---
@main.command("approve")
@click.argument("release_id", metavar="RELEASE")
@click.option("--env", "env_name", required=True)
@click.option("--as", "approver", help="Approver (default: the global actor).")
@click.option("--comment", default="", help="Why you approve (kept in the audit log).")
@json_option
@click.pass_obj
@command
def approve_cmd(app: App, release_id: str, env_name: str, approver: str | None, comment: str, as_json: bool) -> None:
    """Approve RELEASE for ENV. The release author can never approve it (separation of duties)."""
    from northstar_release.identity import require_verified
    from northstar_release.model import Approval

    env = app.env(env_name)
    release = app.release(release_id)
    identity = app.identity_for(approver, "approve --as") if approver is not None else app.identity
    require_verified(env.name, env.require_verified_identity, identity)
    who = identity.subject
    refused = policy.check_self_approval(release, who)
    if refused:
        with app.store.transaction() as tx:
            tx.append_audit(who, "approval.refused", release.id, env.name, {"reason": refused})
        raise Blocked("approval refused", [refused])
    # Recorded at real time, never the policy clock (NORTHSTAR_NOW) -- evidence must not be backdated.
    approval = Approval(release_id=release.id, env=env.name, approver=who, at=datetime.now(UTC), comment=comment)
    with app.store.transaction() as tx:
        added = tx.add_approval(approval)
        if added:
            tx.append_audit(who, "approval.add", release.id, env.name,
                            {"comment": comment, "identity": identity.to_json()})
    verdict = policy.evaluate_approvals(env, release, app.store.approvals(release.id, env.name))
    doc = {"ok": True, "added": added, "approval": approval.to_json(), "required": verdict.required,
           "counted": list(verdict.counted), "satisfied": verdict.ok, "identity": identity.to_json()}
    emit(app, doc, lambda: OUT.print(
        f"{'approved' if added else 'already approved'}: {release.id} for {env.name} by {who} "
        f"({len(verdict.counted)}/{verdict.required} approvals; identity "
        f"{'CI-verified' if identity.verified else 'unverified'})", highlight=False, markup=False))


# ------------------------------------------------------------------------------------------------------ rollback ---
@main.command("rollback")
@click.option("--env", "env_name", required=True)
@click.option("--to", "to_release", help="Release to roll back to (default: the env's last known-good release).")
@click.option("--reason", required=True, help="Why (kept in the audit log).")
@click.option("--dry-run", is_flag=True)
@click.option("--wait", is_flag=True)
@json_option
@click.pass_obj
@command
def rollback_cmd(app: App, env_name: str, to_release: str | None, reason: str, dry_run: bool, wait: bool,
                 as_json: bool) -> None:
    """Switch ENV back to a known-good release: no rebuild, no gates before the swap; verify after."""
    from northstar_release.plan import plan_rollback

    env = app.env(env_name)
    target = app.release(to_release) if to_release else None
    identity = _checked_identity(app, env)
    rt = app.runtime()
    plan = plan_rollback(env, target, app.actor, app.store, app.environments, rt.now(), reason=reason,
                         actual=app.actual_live(rt, env.name))
    _run_plan(app, rt, _with_identity(plan, identity), app.release(plan.release_id), dry_run, wait, reason=reason)


# ------------------------------------------------------------------------------------------------ status/history ---
@main.command("status")
@click.option("--env", "env_name", help="Only this environment.")
@json_option
@click.pass_obj
@command
def status_cmd(app: App, env_name: str | None, as_json: bool) -> None:
    """What is live in each environment (recorded and on disk) and the last deployment."""
    from northstar_release.plan import live_release_id

    names = [app.env(env_name).name] if env_name else list(app.environments)
    rt = app.runtime()
    doc: dict[str, Any] = {"ok": True, "environments": {}}
    for name in names:
        deps = app.store.deployments(env=name)
        live = app.store.live(name)
        on_disk = app.actual_live(rt, name)
        doc["environments"][name] = {
            "live_release": live_release_id(app.store, name),
            "artifacts": {f"{k}:{n}": {"sha256": sha, "release_id": rid, "on_disk": on_disk.get((k, n))}
                          for (k, n), (sha, rid) in live.items()},
            "last_deployment": deps[0].to_json() if deps else None,
        }

    def human() -> None:
        table = Table(title="environments")
        for col in ("env", "live release", "digest", "on disk", "last deployment"):
            table.add_column(col)
        for name, e in doc["environments"].items():
            arts = list(e["artifacts"].values())
            digest = ", ".join(a["sha256"][:12] for a in arts) or "-"
            disk = ", ".join((a["on_disk"] or "none")[:12] for a in arts) or "-"
            last = e["last_deployment"]
            table.add_row(name, e["live_release"] or "-", digest, disk,
                          f"#{last['id']} {last['action']} {last['release_id']} {last['status']}" if last else "-")
        OUT.print(table)

    emit(app, doc, human)


@main.command("history")
@click.option("--env", "env_name", help="Only this environment.")
@json_option
@click.pass_obj
@command
def history_cmd(app: App, env_name: str | None, as_json: bool) -> None:
    """Deployments, newest first."""
    if env_name:
        app.env(env_name)
    deps = app.store.deployments(env=env_name)

    def human() -> None:
        table = Table(title="deployments")
        for col in ("#", "env", "release", "action", "status", "actor", "started", "reason"):
            table.add_column(col)
        for d in deps:
            table.add_row(str(d.id), d.env, d.release_id, d.action, d.status.value, d.actor,
                          d.started_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S"), d.reason[:60])
        OUT.print(table)

    emit(app, {"ok": True, "deployments": [d.to_json() for d in deps]}, human)


@main.command("show")
@click.argument("release_id", metavar="RELEASE")
@json_option
@click.pass_obj
@command
def show_cmd(app: App, release_id: str, as_json: bool) -> None:
    """One release: commit, author, artifacts and digests, approvals and deployments per env."""
    release = app.release(release_id)
    approvals = {e: [a.to_json() for a in app.store.approvals(release.id, e)] for e in app.environments}
    deps = [d.to_json() for d in app.store.deployments(release_id=release.id)]
    doc = {"ok": True, "release": release.to_json(), "approvals": approvals, "deployments": deps}

    def human() -> None:
        OUT.print(f"{release.id}  commit {release.git_commit}  author {release.author}  tags "
                  f"{', '.join(release.tags) or '-'}", highlight=False)
        for a in release.artifacts:
            OUT.print(f"  {a.kind.value} {a.name} sha256={a.sha256} ({a.size} bytes)", highlight=False)
        for env, lst in approvals.items():
            for a in lst:
                OUT.print(f"  approved for {env} by {a['approver']} at {a['at']}", highlight=False)
        for d in deps:
            OUT.print(f"  #{d['id']} {d['env']} {d['action']} {d['status']} by {d['actor']}", highlight=False)

    emit(app, doc, human)


# --------------------------------------------------------------------------------------------------------- audit ---
@main.group("audit")
def audit_group() -> None:
    """Tamper-evident audit log: verify the hash chain, export evidence per release."""


@audit_group.command("anchor")
@click.option("--output", type=click.Path(path_type=Path), help="Also write the anchor JSON to FILE.")
@json_option
@click.pass_obj
@command
def audit_anchor_cmd(app: App, output: Path | None, as_json: bool) -> None:
    """Print the chain head (seq and hash) to keep in write-once storage; `audit verify --anchor FILE` checks it."""
    from northstar_release.audit_export import verify_store

    result = verify_store(app.store)
    if not result.ok:
        raise Blocked(f"audit chain broken at seq {result.first_broken_seq}: refusing to anchor it", [result.problem])
    entries = app.store.audit_entries()
    anchor = {"seq": entries[-1].seq if entries else 0, "hash": entries[-1].hash if entries else "0" * 64,
              "exported_at": datetime.now(UTC).isoformat(), "state": app.store.url}
    if output:
        from northstar_release.fsutil import atomic_write

        atomic_write(output, (json.dumps(anchor, indent=2) + "\n").encode())
    emit(app, {"ok": True, "anchor": anchor, "output": str(output) if output else None},
         lambda: OUT.print(f"audit anchor: seq {anchor['seq']} hash {anchor['hash']}"
                           + (f" (written to {output})" if output else ""), highlight=False))


@audit_group.command("verify")
@click.option("--anchor", "anchor_file", type=click.Path(path_type=Path, dir_okay=False),
              help="An anchor exported earlier with `audit anchor`: the chain must still contain it (detects truncation "
                   "even when the anchor stored beside the log was rewritten).")
@json_option
@click.pass_obj
@command
def audit_verify_cmd(app: App, anchor_file: Path | None, as_json: bool) -> None:
    """Verify the audit hash chain; exit 1 naming the first broken seq."""
    from northstar_release.audit import AuditAnchor
    from northstar_release.audit_export import verify_store

    external = None
    if anchor_file is not None:
        try:
            external = AuditAnchor.from_json(json.loads(anchor_file.read_text()))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise UsageError(f"{anchor_file}: not an audit anchor exported by `./release audit anchor` ({exc})") from exc
    result = verify_store(app.store, external)
    doc = {"ok": result.ok, "entries_checked": result.entries_checked, "first_broken_seq": result.first_broken_seq,
           "problem": result.problem, "scope": result.scope}
    if result.ok:
        emit(app, doc, lambda: OUT.print(f"audit chain intact: {result.entries_checked} entries verified",
                                         highlight=False))
        return
    if app.json:
        emit(app, doc, lambda: None)
        sys.exit(1)
    if result.scope == "state":
        raise Blocked("audit verification failed: state tables disagree with the audit chain", [result.problem])
    raise Blocked(f"audit chain broken at seq {result.first_broken_seq}", [result.problem])


@audit_group.command("export")
@click.argument("release_id", metavar="RELEASE")
@click.option("--format", "fmt", type=click.Choice(["json", "markdown"]), default="json")
@click.option("--output", type=click.Path(path_type=Path), help="Write to FILE instead of stdout.")
@json_option
@click.pass_obj
@command
def audit_export_cmd(app: App, release_id: str, fmt: str, output: Path | None, as_json: bool) -> None:
    """Who, what, approvals, gate results, digests and deployments per env for RELEASE."""
    from northstar_release.audit_export import export_release, to_markdown

    doc = export_release(app.store, release_id, app.environments)
    text = to_markdown(doc) if fmt == "markdown" and not as_json else json.dumps(doc, indent=2, sort_keys=True)
    if output:
        output.write_text(text if text.endswith("\n") else text + "\n")
        if as_json:
            click.echo(json.dumps({"ok": True, "output": str(output), "format": fmt}))
        else:
            OUT.print(f"wrote {output}", highlight=False)
    else:
        click.echo(text)


# ---------------------------------------------------------------------------------------------------------- demo ---
@main.command("demo")
@click.option("--keep", is_flag=True, help="Keep the temporary clone and its release state for inspection.")
@click.option("--workdir", type=click.Path(path_type=Path, file_okay=False),
              help="Where the clone, state and evidence go (default: a new temp dir). Must not hold an earlier run.")
@json_option
def demo_cmd(keep: bool, workdir: Path | None, as_json: bool) -> None:
    """The whole release story in a throwaway clone: v1 to prod, a good change promoted with 0 recompute, a bad one
    blocked at dev, prod rolled back, audit verified and exported. Exit 0 only if every expectation held."""
    from northstar_release.demo import run_demo

    sys.exit(run_demo(as_json=as_json, keep=keep, workdir=workdir))


if __name__ == "__main__":
    # Invoked as `python -m northstar_release.cli` by ./release; name the program the way users type it.
    main(prog_name=os.environ.get("NORTHSTAR_PROG_NAME", "release"))
