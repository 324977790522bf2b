"""Warm start, the engine's side: a component process started before its arguments are known.

Why: the warehouse switch of a prod rollback imports SQLMesh (1.5-2.5 s on the 2-core machine) only after the
engine's own start-up, recovery and the ``serving`` read (1-2 s). The evaluator starts the switch's process when it
takes the environment's lock (``KindSpec.warm_start``), so the import overlaps that work; the runner hands the process
its arguments on the first matching call (``runner.SubprocessComponentRunner.run``). The protocol is in
``northstar_contracts.warm_start``.

What keeps it safe:
- the process is the same command with the same environment as a cold call, started with the same death signal
  (it dies with the CLI), and it takes no lock and opens no file before its arguments arrive;
- a process that does not answer :data:`READY_LINE` first (an entry point without the protocol, a crash on import) is
  killed and the call runs cold, so a warm start can only save time, never change a result;
- an unused process is told "not needed" (end of input) when the evaluator is done, and killed if it lingers.
"""

from __future__ import annotations

import json
import os
import selectors
import subprocess
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from northstar_contracts.warm_start import PRESTART_ENV, READY_LINE

READY_LINE_MAX = 4096


@dataclass
class Finished:
    """What a warm process printed and returned once it was given its arguments."""

    returncode: int
    stdout: str
    stderr: str


class WarmProcess:
    """One started entry point waiting for its arguments."""

    def __init__(self, cmd: list[str], env: Mapping[str, str], cwd: str | None, preexec: Callable[[], None]) -> None:
        self.cmd, self.environ, self.cwd = list(cmd), dict(env), cwd  # what it runs (a cold call would run the same)
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     env={**env, PRESTART_ENV: "1"}, cwd=cwd, preexec_fn=preexec)  # noqa: PLW1509

    def _ready(self, timeout_s: float) -> bool:
        """Read the first stdout line (unbuffered, so nothing after it is consumed); True if it is the ready line."""
        assert self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        deadline = time.monotonic() + timeout_s
        line = b""
        with selectors.DefaultSelector() as sel:
            sel.register(fd, selectors.EVENT_READ)
            while not line.endswith(b"\n") and len(line) < READY_LINE_MAX:
                left = deadline - time.monotonic()
                if left <= 0 or not sel.select(left):
                    return False
                chunk = os.read(fd, 1)
                if not chunk:
                    return False
                line += chunk
        return line.decode("utf-8", "replace").strip() == READY_LINE

    def run(self, args: list[str], timeout_s: float, ready_within_s: float) -> Finished | None:
        """Give the process ``args`` and wait for its record; None (process killed) when it is not ready within
        ``ready_within_s``, so the caller runs the entry point cold. Raises ``subprocess.TimeoutExpired`` like a cold
        run when the record takes longer than ``timeout_s``."""
        if self.proc.poll() is not None or not self._ready(ready_within_s):
            self.kill()
            return None
        try:
            stdout, stderr = self.proc.communicate(input=(json.dumps(args) + "\n").encode(), timeout=timeout_s)
        except subprocess.TimeoutExpired:
            self.kill()
            raise
        return Finished(self.proc.returncode, stdout.decode("utf-8", "replace"), stderr.decode("utf-8", "replace"))

    def dismiss(self, grace_s: float = 2.0) -> None:
        """Not needed: end of input tells it to exit 0; killed if it does not within ``grace_s``."""
        try:
            assert self.proc.stdin is not None
            self.proc.stdin.close()
            self.proc.wait(timeout=grace_s)
        except (OSError, subprocess.TimeoutExpired):
            self.kill()
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream is not None:
                stream.close()

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        for stream in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            if stream is not None:
                stream.close()
