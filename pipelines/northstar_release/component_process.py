"""How a component entry point's process is found and started: its command line, and its death with the CLI.

Why its own module, stdlib only: the runner (``runner.py``) uses it for every call, and ``early_warm`` uses it at the
CLI's first line, before the CLI has imported anything heavy. One resolution for both, so a process started early is
exactly the process the runner would have started.

Resolution order for entry point ``dagbag_check``:
  1. env var ``NORTHSTAR_ENTRYPOINT_DAGBAG_CHECK`` -- a command line, shlex-split;
  2. ``<repo>/dist/entrypoints/dagbag_check.pex`` if it exists;
  3. otherwise None (the runner turns that into a ComponentError saying how to build it).
A lone venv-mode PEX runs through the venv it installed under ``$PEX_ROOT`` when that install is certain
(:mod:`northstar_release.pex_venv`).
"""

from __future__ import annotations

import ctypes
import os
import shlex
import signal
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from northstar_release.pex_venv import installed_venv_script

_PR_SET_PDEATHSIG = 1


def env_var_for(entry_point: str) -> str:
    return "NORTHSTAR_ENTRYPOINT_" + entry_point.upper().replace("-", "_").replace(".", "_")


def command_for(entry_point: str, environ: Mapping[str, str], repo_root: Path) -> list[str] | None:
    """The argv prefix of ``entry_point`` (see the module docstring), or None when it is not available."""
    configured = environ.get(env_var_for(entry_point), "").strip()
    if configured:
        cmd = shlex.split(configured)
    else:
        pex = repo_root / "dist" / "entrypoints" / f"{entry_point}.pex"
        if not pex.exists():
            return None
        cmd = [str(pex)]
    if len(cmd) != 1:
        return cmd
    script = installed_venv_script(Path(cmd[0]), environ)
    return [str(script)] if script is not None else cmd


def _load_prctl() -> Any:
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None


_PRCTL = _load_prctl()  # resolved in the parent: the forked child must not load libraries before exec


def die_with_parent(parent: int) -> Callable[[], None]:
    """A ``preexec_fn`` for children of process ``parent``: before exec, ask the kernel to SIGKILL the child when the
    CLI process (precisely: the thread that started it -- the one that waits for it, or for a warm process the
    runner's warm-start thread or the main thread, which live as long as the process) dies.

    Why: a component switches an environment (e.g. the warehouse entry point re-plans a SQLMesh environment). When the
    CLI was SIGKILLed mid-switch, the component kept running and switched the environment *after* the kill, while
    the next command already trusted the recorded state (issue 14, point 1). With the death signal the component dies
    with the CLI, so nothing changes an environment without a live CLI holding its lock. Linux only; elsewhere a
    no-op. (Processes the component itself spawns are not covered; the entry points run in-process.)
    """

    def preexec() -> None:
        if _PRCTL is not None:
            _PRCTL(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
            if os.getppid() != parent:  # the CLI died between fork and prctl: the death signal will never come
                os._exit(137)

    return preexec
