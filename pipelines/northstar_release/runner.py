"""SubprocessComponentRunner: run a component entry point (e.g. ``dagbag_check``) as a separate process.

Why a subprocess and not an import: components live in their own Python environments (Airflow, dbt, Spark each pin
conflicting dependencies). The engine must never import them; it only speaks a tiny contract: argv in, exactly one
JSON object on stdout, exit 0 ok / 1 problems / 2 usage.

Which command runs an entry point, and the death signal that ties it to the CLI: :mod:`component_process`.

What comes back is typed: :func:`call` parses the entry point's JSON into the record its contract declares
(``northstar_contracts``, shared with the entry point itself) -- or the ``ErrorRecord`` the entry point printed
instead -- through the one generic :func:`northstar_contracts.base.parse_result`. A payload that does not match
(a field renamed, missing or of another type on one side) is a ComponentError (exit 2) naming the entry point, the
subcommand and each field: adapters never guess field names with ``.get("...")``.
"""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from northstar_contracts.base import ContractError, Record, parse_result
from northstar_release import early_warm, faults
from northstar_release.adapters.base import ComponentResult, ComponentRunner, Reported
from northstar_release.component_process import command_for, die_with_parent, env_var_for
from northstar_release.errors import ComponentError
from northstar_release.warm_start import WarmProcess

R = TypeVar("R", bound=Record)

STDERR_TAIL_CHARS = 4000
# A component that runs longer than this is killed and the step fails with exit 2 (NORTHSTAR_COMPONENT_TIMEOUT_S
# overrides). The first warehouse check of a 214-model release measured 10+ min at load 12 on the 2-core machine (about 3 min idle), so the
# bound is 30 min: long enough for a loaded machine, short enough that a hung engine never blocks a release for hours.
DEFAULT_COMPONENT_TIMEOUT_S = 1800.0
# How long a warm-started entry point may take to import before the call gives up on it and runs cold (an entry point
# without the warm-start protocol never gets ready; a busy machine needs more than the usual 2-3 s).
WARM_READY_TIMEOUT_S = 120.0


def _started(preexec: Callable[[], None], entry_point: str, points: tuple[str, ...]) -> Callable[[], None]:
    """``preexec`` for a component child, plus the ``component:<entry point>[:<subcommand>]`` fault point (tests only).

    The point is checked in the parent's fork, right before the child execs, so a requested fault kills the *CLI*
    (the parent) while the child runs: the child's death signal (set just before) must then take it down too."""
    wanted = faults.wanted()
    names = [n for n in (f"component:{p}" for p in (entry_point, *points)) if n in wanted]
    if not names:
        return preexec
    parent = os.getpid()
    print(f"FAULT {names[0]} pid={parent}", file=sys.stderr, flush=True)

    def preexec_and_kill_parent() -> None:
        preexec()
        os.kill(parent, signal.SIGKILL)

    return preexec_and_kill_parent


class SubprocessComponentRunner:
    """Implements ``adapters.base.ComponentRunner`` by spawning the resolved command."""

    def __init__(self, repo_root: Path, timeout_s: float | None = None, environ: Mapping[str, str] | None = None) -> None:
        # NORTHSTAR_COMPONENT_TIMEOUT_S: a full warehouse build on a loaded machine can need more than the default.
        if timeout_s is None:
            timeout_s = float(os.environ.get("NORTHSTAR_COMPONENT_TIMEOUT_S", str(DEFAULT_COMPONENT_TIMEOUT_S)))
        self.repo_root = repo_root
        self.timeout_s = timeout_s
        self.environ = dict(os.environ if environ is None else environ)
        # Wall time during which at least one component entry point (Airflow DagBag, ...) was running, so callers can
        # report the engine's own work separately from the engines it drives. Entry points may run concurrently
        # (parallel verification), so this is the union of their intervals, never their sum.
        self.seconds_in_components = 0.0
        self._active = 0
        self._busy_since = 0.0
        self._lock = threading.Lock()
        self._warm: dict[tuple[str, str], WarmProcess] = {}  # (entry point, subcommand) -> started, waiting
        self._uses: dict[tuple[str, str], int] = {}  # calls still to be served warm, the waiting one included
        self._running: set[subprocess.Popen[Any]] = set()  # component processes a call is waiting on right now
        self._warm_starter: ThreadPoolExecutor | None = None  # the thread every warm process is started from

    def _enter(self) -> None:
        with self._lock:
            if self._active == 0:
                self._busy_since = time.monotonic()
            self._active += 1

    def _leave(self) -> None:
        with self._lock:
            self._active -= 1
            if self._active == 0:
                self.seconds_in_components += time.monotonic() - self._busy_since

    def resolve(self, entry_point: str) -> list[str]:
        """Return the argv prefix for ``entry_point`` or raise ComponentError explaining how to provide it."""
        cmd = command_for(entry_point, self.environ, self.repo_root)
        if cmd is not None:
            return cmd
        pex = self.repo_root / "dist" / "entrypoints" / f"{entry_point}.pex"
        raise ComponentError(
            f"component entry point '{entry_point}' is not available",
            [f"set {env_var_for(entry_point)} to a command line (e.g. a PEX path or '<venv>/bin/python -m <module>')",
             f"or build it: ./pants package {pants_target(entry_point)}  (expected at {pex})"],
        )

    def prestart(self, entry_point: str, subcommand: str, uses: int = 1) -> None:
        """Start ``entry_point`` now; the next ``run(entry_point, [subcommand, ...])`` hands it its arguments
        (:mod:`northstar_release.warm_start`). ``uses`` > 1: each call that takes a warm process starts the next one,
        so its import overlaps that call, until ``uses`` calls were served. Anything that goes wrong here only means
        a call runs cold."""
        key = (entry_point, subcommand)
        with self._lock:
            self._uses[key] = max(uses, 1)
            if key not in self._warm:
                self._start_warm(key)

    def _start_warm(self, key: tuple[str, str]) -> None:
        """Start the warm process for ``key``, or adopt the identical one the CLI started at its first line
        (:mod:`early_warm`)."""
        try:
            cmd = self.resolve(key[0])
            early = early_warm.adopt(key, cmd, self.environ, self._cwd())
            self._warm[key] = early if early is not None else self._on_warm_start_thread(
                lambda: WarmProcess(cmd, self.environ, self._cwd(), die_with_parent(os.getpid())))
        except (ComponentError, OSError):
            return

    def _on_warm_start_thread(self, start: Callable[[], WarmProcess]) -> WarmProcess:
        """Run ``start`` on the runner's one warm-start thread, which lives as long as the CLI process.

        Why: the kernel's parent-death signal (:func:`die_with_parent`) fires when the *thread* that forked the child
        ends, not the process. A promotion's warehouse gate takes the first warm process from its worker thread
        (``gate_batch``) and starts the next one for the switch; started on that worker, it was SIGKILLed as soon as
        the worker finished its gates, and the switch ran cold (+1 s importing SQLMesh, every promotion)."""
        if self._warm_starter is None:
            self._warm_starter = ThreadPoolExecutor(max_workers=1, thread_name_prefix="warm-start")
        return self._warm_starter.submit(start).result()

    def dismiss_prestarted(self) -> None:
        """Tell every unused warm process it is not needed (it exits 0); no call is served warm after this."""
        with self._lock:
            self._uses.clear()
            waiting, self._warm = list(self._warm.values()), {}
        for warm in waiting:
            warm.dismiss()

    def _cwd(self) -> str | None:
        return str(self.repo_root) if self.repo_root.is_dir() else None

    def _run_warm(self, entry_point: str, args: list[str], env: Mapping[str, str] | None,
                  points: tuple[str, ...]) -> subprocess.CompletedProcess[str] | None:
        """The call through a warm process started for it, or None (run it cold). A call with extra environment or a
        requested fault point at its start (tests only: it must kill the CLI as the child starts) runs cold."""
        key = (entry_point, args[0]) if args else None
        with self._lock:  # gates of different kinds call from their own threads (gate_batch.py)
            warm = self._warm.pop(key, None) if key else None
            if warm is None or key is None:
                return None
            self._uses[key] = self._uses.get(key, 1) - 1
            if self._uses[key] > 0:
                self._start_warm(key)  # the next call's process imports while this one works
        wanted = faults.wanted()
        if env or any(n in wanted for n in (f"component:{p}" for p in (entry_point, *points))):
            warm.dismiss()
            return None
        try:
            with self._tracked(warm.proc):
                done = warm.run(list(args), self.timeout_s, ready_within_s=min(self.timeout_s, WARM_READY_TIMEOUT_S))
        except subprocess.TimeoutExpired as exc:
            exc.cmd = warm.cmd + list(args)
            raise
        if done is None:
            return None
        return subprocess.CompletedProcess(warm.cmd + list(args), done.returncode, done.stdout, done.stderr)

    def _run_cold(self, cmd: list[str], env: Mapping[str, str],
                  preexec: Callable[[], None]) -> subprocess.CompletedProcess[str]:
        """``subprocess.run`` (captured text, ``timeout_s``), with the process known to :meth:`stop_running` while
        the call waits on it."""
        with subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                              cwd=self._cwd(), preexec_fn=preexec) as proc:  # noqa: PLW1509 - prctl(2)
            with self._tracked(proc):
                try:
                    stdout, stderr = proc.communicate(timeout=self.timeout_s)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    stdout, stderr = proc.communicate()
                    raise subprocess.TimeoutExpired(cmd, self.timeout_s, output=stdout, stderr=stderr) from None
                except BaseException:
                    proc.kill()
                    raise
        return subprocess.CompletedProcess(cmd, proc.returncode, stdout, stderr)

    @contextmanager
    def _tracked(self, proc: subprocess.Popen[Any]) -> Iterator[None]:
        with self._lock:
            self._running.add(proc)
        try:
            yield
        finally:
            with self._lock:
                self._running.discard(proc)

    def stop_running(self) -> None:
        """Kill every component process a call is waiting on (gates run them from worker threads, where the
        interrupt that ends the CLI never arrives) and reap it; each waiting call then fails as a killed component
        does. Called when an evaluation ends abnormally, so no component outlives the command that started it."""
        with self._lock:
            running = list(self._running)
        for proc in running:
            if proc.poll() is None:
                proc.kill()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass

    def run(self, entry_point: str, args: list[str], env: Mapping[str, str] | None = None) -> ComponentResult:
        cmd = self.resolve(entry_point) + list(args)
        proc_env = {**self.environ, **(env or {})}
        self._enter()
        # Fault points (faults.py, tests only): the component started / finished and the CLI has not read it yet.
        points = (f"{entry_point}:{args[0]}",) if args and not args[0].startswith("-") else ()
        try:
            warm = self._run_warm(entry_point, args, env, points)
            proc = warm if warm is not None else self._run_cold(
                cmd, proc_env, _started(die_with_parent(os.getpid()), entry_point, points))
        except FileNotFoundError as exc:
            raise ComponentError(f"component entry point '{entry_point}': cannot execute {cmd[0]!r}: {exc.strerror}",
                                 [f"check {env_var_for(entry_point)} or dist/entrypoints/{entry_point}.pex"]) from exc
        except subprocess.TimeoutExpired as exc:
            tail = _tail(exc.stderr)
            raise ComponentError(f"component entry point '{entry_point}' timed out after {self.timeout_s:.0f}s",
                                 [f"command: {shlex.join(cmd)}", f"stderr tail: {tail}",
                                  "on a slow or loaded machine raise the bound: NORTHSTAR_COMPONENT_TIMEOUT_S=<seconds>"]) from exc
        finally:
            self._leave()
        faults.point(f"component-done:{entry_point}", *(f"component-done:{p}" for p in points))
        tail = _tail(proc.stderr)
        payload = parse_single_json(proc.stdout)
        if payload is None:
            raise ComponentError(
                f"component entry point '{entry_point}' did not print one JSON object (exit {proc.returncode})",
                [f"command: {shlex.join(cmd)}", f"stdout: {proc.stdout[-500:]!r}", f"stderr tail: {tail}"],
            )
        if proc.returncode not in (0, 1):
            raise ComponentError(
                f"component entry point '{entry_point}' reported a usage error (exit {proc.returncode})",
                [f"command: {shlex.join(cmd)}", f"output: {json.dumps(payload)[:500]}", f"stderr tail: {tail}"],
            )
        return ComponentResult(exit_code=proc.returncode, payload=payload, stderr_tail=tail)


def pants_target(entry_point: str) -> str:
    """The Pants target that builds ``entry_point`` (the KindSpec of each kind names it)."""
    from northstar_release.kinds.registry import KINDS  # lazy: the registry imports every adapter, which import us

    return KINDS.entry_point_targets().get(entry_point, f"<dir>:{entry_point}")


def call(runner: ComponentRunner, entry_point: str, args: list[str], record: type[R], *,
         subcommand: str | None = None, env: Mapping[str, str] | None = None) -> Reported[R]:
    """Run ``entry_point`` and return its answer as ``record`` (or the ErrorRecord it printed instead).

    ``subcommand`` only names the call in errors (``warehouse plan``); entry points without subcommands pass None.
    """
    return typed(runner.run(entry_point, args, env), entry_point, record, subcommand=subcommand)


def typed(result: ComponentResult, entry_point: str, record: type[R], *, subcommand: str | None = None) -> Reported[R]:
    """``result``'s JSON validated against ``record``; a mismatch is a ComponentError (exit 2), never a KeyError."""
    name = f"{entry_point} {subcommand}" if subcommand else entry_point
    try:
        parsed = parse_result(record, result.payload)
    except ContractError as exc:
        raise ComponentError(
            f"component entry point '{name}' printed a result that does not match its contract: {exc}",
            [f"the engine reads {record.__module__}.{record.__name__}; build the entry point from the same "
             f"northstar_contracts as the engine: ./pants package {pants_target(entry_point)}",
             f"exit code: {result.exit_code}", f"output: {json.dumps(result.payload, default=str)[:500]}",
             f"stderr tail: {result.stderr_tail[-1000:]}"],
        ) from None
    return Reported(entry_point=entry_point, subcommand=subcommand, exit_code=result.exit_code, record=parsed,
                    stderr_tail=result.stderr_tail)


def _tail(text: str | bytes | None) -> str:
    if text is None:
        return ""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return text[-STDERR_TAIL_CHARS:]


def parse_single_json(stdout: str) -> dict[str, Any] | None:
    """The whole stdout as one JSON object; tolerate stray log lines before it by trying the last line alone."""
    text = stdout.strip()
    if not text:
        return None
    for candidate in (text, text.splitlines()[-1]):
        try:
            value = json.loads(candidate)
        except json.JSONDecodeError:
            continue
        if isinstance(value, dict):
            return value
    return None
