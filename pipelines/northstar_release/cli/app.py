"""CLI wiring shared by every command group: the lazily-built collaborators (``App``), output, error mapping.

Exit codes (a contract with CI): 0 done (including idempotent no-ops); 1 blocked by a gate or policy (reasons printed);
2 bad input/usage (unknown env or release, malformed environments.yaml, dirty tree, missing component); 3 the
environment's lock is held by another operation (pass ``--wait`` to queue instead). ``--json`` prints exactly one JSON
document on stdout; progress lines always go to stderr. Errors are printed in one place (``command``; usage errors and
anything else that escapes a command: ``cli.entry``).

Why the consoles have markup and emoji off: every line may carry user input (release ids, actors, comments, reasons
quoting arguments), and rich would interpret ``[/]`` or ``:x:`` inside it -- a crash or a changed message. Styling is
applied with ``rich.text.Text`` spans instead, which never parse their content.
"""

from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from rich.console import Console
from rich.text import Text

from northstar_release import gitutil, policy
from northstar_release.errors import ReleaseError, UsageError

if TYPE_CHECKING:
    from northstar_release.artifact_store import LocalArtifactStore
    from northstar_release.identity import IdentityRecord
    from northstar_release.model import Environment, Release
    from northstar_release.recovery import Runtime
    from northstar_release.state.base import StateStore

OUT = Console(soft_wrap=True, markup=False, emoji=False, highlight=False)
ERR = Console(stderr=True, soft_wrap=True, markup=False, emoji=False, highlight=False)


class App:
    """Lazily-built collaborators for one CLI invocation."""

    def __init__(self, state_dir: Path | None, state_url: str | None, actor: str | None,
                 oidc_token: Path | None = None) -> None:
        self._repo: Path | None = None
        self._state_dir = state_dir
        self.state_url = state_url or None
        self._actor = actor
        self._oidc_token = oidc_token
        self._identity: IdentityRecord | None = None
        self._store: StateStore | None = None
        self._envs: Mapping[str, Environment] | None = None
        self.json = False

    @property
    def repo(self) -> Path:
        """The git checkout the command works on: the one holding the current directory. Outside a checkout, commands
        that need one refuse (exit 2) instead of silently using the checkout that holds ``./release``."""
        if self._repo is None:
            root = gitutil.repo_root(Path.cwd())
            if root is None:
                raise UsageError(f"{Path.cwd()} is not inside a git checkout",
                                 ["run ./release from within the repository you release (cd into it first)"])
            self._repo = root
        return self._repo

    @property
    def state_dir(self) -> Path:
        """--state-dir / NORTHSTAR_STATE_DIR, else ``<repo>/.release-state``."""
        return (self._state_dir or self.repo / ".release-state").absolute()

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

    def identity_for(self, asserted: str | None = None, source: str = "--as") -> IdentityRecord:
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
    def identity(self) -> IdentityRecord:
        """The acting identity, resolved once per invocation (the token is read and verified only once)."""
        if self._identity is None:
            self._identity = self.identity_for()
        return self._identity

    @property
    def actor(self) -> str:
        return self.identity.subject

    @property
    def environments(self) -> Mapping[str, Environment]:
        if self._envs is None:
            from northstar_release.environments import load_environments

            path = Path(os.environ.get("NORTHSTAR_ENVIRONMENTS") or self.repo / "pipelines" / "environments.yaml")
            self._envs = load_environments(path)
        return self._envs

    def env(self, name: str) -> Environment:
        from northstar_release.environments import require_env

        return require_env(self.environments, name)

    @property
    def store(self) -> StateStore:
        if self._store is None:
            from northstar_release.state import open_store

            # Validate the control configuration before the first write (creating the state dir and database):
            # a command that a malformed environments.yaml rejects must leave nothing behind.
            _ = self.environments
            self.state_dir.mkdir(parents=True, exist_ok=True)
            self._store = open_store(self.state_url, self.state_dir)
        return self._store

    @property
    def artifacts(self) -> LocalArtifactStore:
        from northstar_release.artifact_store import LocalArtifactStore

        return LocalArtifactStore(self.state_dir / "artifacts")

    def release(self, release_id: str) -> Release:
        release = self.store.get_release(release_id)
        if release is None:
            raise UsageError(f"unknown release '{release_id}' (run ./release build, or ./release status to list)")
        return release

    def runtime(self) -> Runtime:
        from northstar_release.adapters.base import EnvContext
        from northstar_release.kinds.registry import KINDS
        from northstar_release.recovery import Runtime
        from northstar_release.runner import SubprocessComponentRunner

        runner = SubprocessComponentRunner(self.repo)
        artifacts = self.artifacts

        def env_context(env: str) -> EnvContext:
            env_dir = self.state_dir / "envs" / env
            env_dir.mkdir(parents=True, exist_ok=True)
            return EnvContext(env=env, env_dir=env_dir, artifact_path=lambda a: artifacts.path_for(a.sha256),
                              runner=runner)

        return Runtime(store=self.store, environments=self.environments, adapters=KINDS.adapters(), kinds=KINDS,
                       env_context=env_context, now=lambda: policy.now_utc(),
                       progress=lambda m: ERR.print(m, highlight=False, markup=False),
                       component_seconds=lambda: runner.seconds_in_components, repo=self.repo,
                       prestart=runner.prestart, dismiss_prestarted=runner.dismiss_prestarted,
                       stop_components=runner.stop_running)

    def actual_live(self, rt: Runtime, env: str, *, actual: bool = False) -> dict[tuple[str, str], str | None]:
        from northstar_release.recovery import actual_live

        return actual_live(rt, env, actual=actual)


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
                click.echo(error_doc(code, message, reasons))
            else:
                print_error({1: "BLOCKED", 2: "ERROR", 3: "LOCKED"}[code], message, reasons)
            sys.exit(code)
        except OSError as exc:
            # e.g. an unwritable state dir: bad input, not a policy decision, so never exit 1 ("blocked").
            _fail(app, 2, f"{type(exc).__name__}: {exc}", ["check --state-dir / NORTHSTAR_STATE_DIR and permissions"])

    return wrapper


def print_error(label: str, message: str, reasons: list[str]) -> None:
    """``LABEL: message`` and one ``- reason`` line each on stderr; user text is never parsed as markup."""
    ERR.print(Text.assemble((label, "bold red"), ": ", message))
    for r in reasons:
        ERR.print(f"  - {r}")


def error_doc(code: int, message: str, reasons: list[str]) -> str:
    """The one JSON document every failure prints under ``--json``."""
    return json.dumps({"ok": False, "exit_code": code, "error": message, "reasons": reasons}, indent=2)


def _fail(app: App, code: int, message: str, reasons: list[str]) -> None:
    if app.json:
        click.echo(error_doc(code, message, reasons))
    else:
        print_error("ERROR", message, reasons)
    sys.exit(code)


json_option = click.option("--json", "as_json", is_flag=True, help="Print exactly one JSON document on stdout.")

