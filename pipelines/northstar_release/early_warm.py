"""Warm start from the CLI's first line: the component processes a ``deploy``, ``promote`` or ``rollback`` is about to
switch are started before the CLI imports its own modules.

Why: a prod rollback is the warehouse switch, and the switch first waits for its process to import SQLMesh (1.1-1.5 s
on the 2-core machine). ``prestart.prestart_every_kind`` starts that process as soon as the command has a runtime,
but by then the CLI has spent ~0.5 s importing itself (click, pydantic, the kind registry) and opening its state;
started here, ~0.05 s after the interpreter, SQLMesh's import overlaps all of that.

Why a constant (:data:`WARM_STARTS`) and not the kind registry: importing the registry is most of the CLI's start-up,
exactly what this must not wait for. A test holds the constant equal to the registry's ``KindSpec.warm_start``
entries, so the two cannot drift apart unnoticed.

What keeps it safe (the rules of :mod:`northstar_release.warm_start`): the process is the entry point's usual command,
resolved and started exactly as the runner would start it (:mod:`component_process`: same command, environment,
working directory -- the checkout holding the current directory -- and parent-death signal, from the main thread,
which lives as long as the CLI); it takes no lock and opens no file before its arguments arrive. The argv scan is a
guess made before click parses anything: a wrong guess (a command that then fails validation, a dry run spelled in a
way the scan missed) costs one import, never a result -- the runner adopts a process only for a call it would have
served warm anyway (:func:`adopt`), and an unadopted one exits when its input ends with the CLI.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

from northstar_release.component_process import command_for, die_with_parent
from northstar_release.gitutil import repo_root
from northstar_release.warm_start import WarmProcess

# (entry point, subcommand) of every KindSpec with a ``warm_start`` (tests/test_early_warm.py keeps them equal).
WARM_STARTS: tuple[tuple[str, str], ...] = (("warehouse", "plan"),)
# Commands that apply a plan and switch environments (the ones that call ``prestart_every_kind``).
SWITCHING_COMMANDS = frozenset({"deploy", "promote", "rollback"})
# Anything that means "no switch will happen": help, a dry run, or an explicit opt-out.
NO_SWITCH_FLAGS = frozenset({"--help", "-h", "--dry-run"})
DISABLE_VAR = "NORTHSTAR_EARLY_WARM_START"  # "0": start nothing here (the prestart then starts it, later)
# Global options of ./release that take a value (the value is not a command name).
_VALUED_GLOBALS = frozenset({"--state-dir", "--state-url", "--as", "--oidc-token"})

_started: dict[tuple[str, str], WarmProcess] = {}


def switching_command(args: Sequence[str]) -> str | None:
    """The command ``args`` run when it is one that switches environments and is not a dry run or help, else None."""
    if any(a in NO_SWITCH_FLAGS for a in args) or "--" in args:
        return None
    skip = False
    for arg in args:
        if skip:
            skip = False
            continue
        if arg in _VALUED_GLOBALS:
            skip = True
            continue
        if arg.startswith("-"):
            continue
        return arg if arg in SWITCHING_COMMANDS else None
    return None


def start_for(args: Sequence[str], environ: Mapping[str, str] | None = None) -> list[tuple[str, str]]:
    """Start the warm processes ``args`` will need; returns what was started (nothing for any other command)."""
    env = dict(os.environ if environ is None else environ)
    if env.get(DISABLE_VAR, "1") == "0" or switching_command(args) is None:
        return []
    root = repo_root(Path.cwd())  # the checkout the CLI works on (App.repo): the runner's working directory
    if root is None:
        return []
    for key in WARM_STARTS:
        cmd = command_for(key[0], env, root)
        if cmd is None or key in _started:
            continue
        try:
            _started[key] = WarmProcess(cmd, env, str(root), die_with_parent(os.getpid()))
        except OSError:
            continue
    return sorted(_started)


def adopt(key: tuple[str, str], cmd: Sequence[str], environ: Mapping[str, str], cwd: str | None) -> WarmProcess | None:
    """The process started here for ``key``, if it runs exactly ``cmd`` in ``cwd`` with ``environ`` (else it is
    dismissed and None returned: the caller starts its own). Each process is handed out once."""
    warm = _started.pop(key, None)
    if warm is None:
        return None
    if warm.cmd == list(cmd) and warm.cwd == cwd and warm.environ == {**environ}:
        return warm
    warm.dismiss()
    return None
