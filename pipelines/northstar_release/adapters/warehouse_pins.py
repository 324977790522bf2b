"""The warehouse adapter's pin bookkeeping: which digests of an env are pinned in SQLMesh state, and under what name.

Why pins: every verified switch pins its snapshot set as the SQLMesh environment ``keep_<env>_<sha12>`` (a
never-expiring environment the janitor respects), so a rollback to any of the last ``KEEP_KNOWN_GOOD`` digests of the
env stays a virtual update, and a promotion or rollback of a pinned digest is made from SQLMesh state without loading
the dbt project (``--from-env keep_...``). ``<env_dir>/warehouse/PINS.json`` lists the env's pinned digests, newest
first; it is rewritten atomically after the component reports which pins it made and released.

Why a module of its own: pin naming and the PINS.json list are one job (bookkeeping beside SQLMesh's own state);
switching, verifying and locating projects (``warehouse.py``) is another. Nothing here calls a component.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

from northstar_contracts.warehouse import PinsResult

PINS_FILE = "PINS.json"
PIN_PREFIX = "keep_"
KEEP_KNOWN_GOOD = 3


def pin_name(env: str, sha: str) -> str:
    """``prod`` + digest -> ``prod_<sha12>`` (the ``--pin`` NAME; the SQLMesh environment is ``keep_<name>``)."""
    return f"{re.sub(r'[^a-z0-9]+', '_', env.lower())}_{sha[:12]}"


def pin_env(env: str, sha: str) -> str:
    """The SQLMesh environment holding ``env``'s verified snapshot set of ``sha``."""
    return PIN_PREFIX + pin_name(env, sha)


def pins(root: Path) -> list[str]:
    """The digests pinned for the env whose warehouse folder is ``root`` (newest first; [] when none)."""
    try:
        return [s for s in json.loads((root / PINS_FILE).read_text()) if isinstance(s, str)]
    except (OSError, ValueError):
        return []


def state_sources(env_dir: Path, sha: str, root_of: str = "warehouse") -> list[str]:
    """``--from-env`` arguments: the pin environments of every env (``env_dir`` first) that verified ``sha``.

    A pin ``keep_<env>_<sha12>`` is made only after a verified switch to ``sha`` (see :func:`pin_plan`), so it holds
    the snapshot set a load of this digest's project yields. Envs are the sibling folders of ``env_dir``.
    """
    envs = [env_dir] + sorted(d for d in env_dir.parent.iterdir() if d.is_dir() and d != env_dir)
    sources: list[str] = []
    for folder in envs:
        if sha in pins(folder / root_of):
            sources += ["--from-env", pin_env(folder.name, sha)]
    return sources


def pin_plan(env: str, root: Path, sha: str, keep: int = KEEP_KNOWN_GOOD) -> tuple[str, list[str]]:
    """Pin name for ``sha`` and the older pins to release so that the last ``keep`` known-good stay pinned."""
    kept = [sha] + [s for s in pins(root) if s != sha]
    return pin_name(env, sha), [pin_name(env, s) for s in kept[keep:]]


def remember_pins(env: str, root: Path, live: str | None, reported: PinsResult | None,
                  keep: int = KEEP_KNOWN_GOOD) -> None:
    """Record in PINS.json what the component pinned for the live digest and which older pins it released."""
    if reported is None or not reported.pinned or live is None:
        return
    unpinned = set(reported.unpinned)
    kept = [live] + [s for s in pins(root) if s != live and pin_env(env, s) not in unpinned]
    tmp = root / f".{PINS_FILE}.tmp.{os.getpid()}"
    tmp.write_text(json.dumps(kept[:keep]) + "\n")
    os.replace(tmp, root / PINS_FILE)
