"""SubprocessComponentRunner: run a component entry point (e.g. ``dagbag_check``) as a separate process.

Why a subprocess and not an import: components live in their own Python environments (Airflow, dbt, Spark each pin
conflicting dependencies). The engine must never import them; it only speaks a tiny contract: argv in, exactly one
JSON object on stdout, exit 0 ok / 1 problems / 2 usage.

Resolution order for entry point ``dagbag_check``:
  1. env var ``NORTHSTAR_ENTRYPOINT_DAGBAG_CHECK`` — a command line, shlex-split (e.g. a PEX path, or
     ``/tmp/venv-airflow/bin/python -m northstar_airflow.dagbag_check``);
  2. ``<repo>/dist/entrypoints/dagbag_check.pex`` if it exists;
  3. otherwise a ComponentError (exit 2) saying how to build it.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from northstar_release.adapters.base import ComponentResult
from northstar_release.errors import ComponentError

STDERR_TAIL_CHARS = 4000


def env_var_for(entry_point: str) -> str:
    return "NORTHSTAR_ENTRYPOINT_" + entry_point.upper().replace("-", "_").replace(".", "_")


class SubprocessComponentRunner:
    """Implements ``adapters.base.ComponentRunner`` by spawning the resolved command."""

    def __init__(self, repo_root: Path, timeout_s: float | None = None, environ: Mapping[str, str] | None = None) -> None:
        # NORTHSTAR_COMPONENT_TIMEOUT_S: a full warehouse build on a loaded machine can need more than the default.
        if timeout_s is None:
            timeout_s = float(os.environ.get("NORTHSTAR_COMPONENT_TIMEOUT_S", "600"))
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
        var = env_var_for(entry_point)
        configured = self.environ.get(var, "").strip()
        if configured:
            return shlex.split(configured)
        pex = self.repo_root / "dist" / "entrypoints" / f"{entry_point}.pex"
        if pex.exists():
            return [str(pex)]
        from northstar_release.kinds.registry import KINDS  # the KindSpec of each kind names its entry point's target

        target = KINDS.entry_point_targets().get(entry_point, f"<dir>:{entry_point}")
        raise ComponentError(
            f"component entry point '{entry_point}' is not available",
            [f"set {var} to a command line (e.g. a PEX path or '<venv>/bin/python -m <module>')",
             f"or build it: ./pants package {target}  (expected at {pex})"],
        )

    def run(self, entry_point: str, args: list[str], env: Mapping[str, str] | None = None) -> ComponentResult:
        cmd = self.resolve(entry_point) + list(args)
        proc_env = {**self.environ, **(env or {})}
        self._enter()
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=self.timeout_s, env=proc_env,
                                  cwd=self.repo_root if self.repo_root.is_dir() else None)
        except FileNotFoundError as exc:
            raise ComponentError(f"component entry point '{entry_point}': cannot execute {cmd[0]!r}: {exc.strerror}",
                                 [f"check {env_var_for(entry_point)} or dist/entrypoints/{entry_point}.pex"]) from exc
        except subprocess.TimeoutExpired as exc:
            tail = _tail(exc.stderr)
            raise ComponentError(f"component entry point '{entry_point}' timed out after {self.timeout_s:.0f}s",
                                 [f"command: {shlex.join(cmd)}", f"stderr tail: {tail}"]) from exc
        finally:
            self._leave()
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
