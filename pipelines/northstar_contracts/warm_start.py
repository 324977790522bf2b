"""Warm start, the entry-point side: start before the arguments are known, so heavy imports overlap the engine's work.

Why: a warehouse switch spends 1.5-2.5 s importing SQLMesh before it reads a byte of state, and a prod rollback runs
it right after the engine's own start-up and recovery (1-2 s). Started early, the import happens meanwhile.

Protocol (the engine's side is ``northstar_release.warm_start``):
1. the engine runs the entry point's usual command with ``NORTHSTAR_PRESTART=1`` and a pipe on stdin;
2. the entry point imports its ``preload`` modules, prints :data:`READY_LINE` on stdout and reads ONE line from stdin:
   a JSON list of argument strings;
3. an empty line or end of input means "not needed": it exits 0 and prints nothing more;
4. otherwise it runs exactly as if started with those arguments: one JSON record on stdout, an exit code.
An entry point that does not speak this protocol never prints :data:`READY_LINE`, and the engine then runs it the
ordinary way. Stdlib only, like the harness.
"""

from __future__ import annotations

import gc
import importlib
import json
import os
import sys
from collections.abc import Callable, Sequence
from typing import NoReturn

from northstar_contracts.harness import exit_now

PRESTART_ENV = "NORTHSTAR_PRESTART"
READY_LINE = '{"northstar_prestart": "ready"}'


def console(main: Callable[[Sequence[str] | None], int], preload: Sequence[str] = ()) -> NoReturn:
    """A PEX console entry: ``main`` on ``sys.argv``, or, when started warm (:data:`PRESTART_ENV`), on the argument
    list read from stdin after ``preload`` is imported. Ends through :func:`exit_now` either way."""
    if os.environ.pop(PRESTART_ENV, "") != "1":  # popped: nothing this process starts inherits it
        exit_now(main(None))
    # No cyclic collection while importing: the collector's passes over the modules' fresh objects, which all stay
    # alive, were ~10 % of SQLMesh's import (the time a prod rollback's switch may still be waiting for).
    gc.disable()
    for module in preload:
        importlib.import_module(module)
    gc.freeze()  # the imported modules are permanent: later collections need not walk them again (~0.15 s a call)
    gc.enable()
    print(READY_LINE, flush=True)
    line = sys.stdin.readline()
    if not line.strip():
        exit_now(0)
    argv = json.loads(line)
    if not isinstance(argv, list) or not all(isinstance(a, str) for a in argv):
        print(f"warm start: expected a JSON list of strings on stdin, got {line[:200]!r}", file=sys.stderr)
        exit_now(2)
    exit_now(main(argv))
