"""Deterministic fault injection for the crash-consistency tests (issue 14, deliver 3).

Why: a SIGKILL sent from outside lands wherever the process happens to be, so a test that kills "at ~5 s" tests a
different instant on every machine. Instead the engine names its crash points, and a test asks the process to
SIGKILL *itself* at exactly one of them::

    NORTHSTAR_FAULT_TESTING=1 NORTHSTAR_FAULT=after:deploy:dag_bundle:airflow-dags ./release deploy ...

``NORTHSTAR_FAULT`` is honoured only while ``NORTHSTAR_FAULT_TESTING=1`` is also set (a stray ``NORTHSTAR_FAULT`` in a
production shell does nothing). Points (see docs/fault-matrix.md):

* ``start`` -- the deployment row exists (``running``), no stage ran yet;
* ``before:<stage name>`` / ``after:<stage name>`` -- every stage boundary of the plan (``before:deploy:<kind>:<name>``,
  ``after:verify``, ``before:record``...); ``after:record`` is the end of the run;
* ``switch:<kind>`` -- inside an adapter's switch, after its preparation (extraction, publication, registration) and
  before the step that makes the artifact live;
* ``component:<entry point>[:<subcommand>]`` -- a component process was started (it dies with the CLI, runner.py);
  ``component-done:<entry point>[:<subcommand>]`` -- it finished (its change is made) and the CLI has not read it yet.

The process prints ``FAULT <point> pid=<pid>`` to stderr, then sends itself SIGKILL: no handler, no ``finally``,
no flush -- exactly what a kill from outside does.
"""

from __future__ import annotations

import os
import signal
import sys

FAULT_VAR = "NORTHSTAR_FAULT"
ENABLE_VAR = "NORTHSTAR_FAULT_TESTING"


def wanted() -> frozenset[str]:
    """The points this process must die at (empty unless fault testing is enabled)."""
    if os.environ.get(ENABLE_VAR) != "1":
        return frozenset()
    return frozenset(p.strip() for p in os.environ.get(FAULT_VAR, "").split(",") if p.strip())


def point(*names: str) -> None:
    """SIGKILL this process if one of ``names`` is a requested fault point; otherwise do nothing."""
    points = wanted()
    hit = next((n for n in names if n in points), None)
    if hit is None:
        return
    print(f"FAULT {hit} pid={os.getpid()}", file=sys.stderr, flush=True)
    os.kill(os.getpid(), signal.SIGKILL)
