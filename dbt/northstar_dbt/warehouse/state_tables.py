"""Environment records read straight from a DuckDB SQLMesh state file, for ``serving`` (no SQLMesh import).

Why: ``serving`` runs before every deploy, promotion and rollback (the engine's recovery asks what each env really
serves). It compares environment records only -- model names with their fingerprints and versions -- yet going
through ``sqlmesh.Context`` costs the SQLMesh import and context set-up (2-3 s on an idle 2-core machine, 6-10 s
under load), several times the read itself. SQLMesh keeps each environment as one row of ``sqlmesh._environments``
whose ``snapshots`` column is the JSON list of its snapshot table infos (name, fingerprint, version, ...).

Why it is safe: the layout is SQLMesh's private state schema, so this reader accepts only the state versions it was
checked against (:data:`CHECKED`, from ``sqlmesh._versions``; ``tests/test_warehouse_from_state.py`` compares its answers with
SQLMesh's own ``state_reader`` on a real state). Any other version, a PostgreSQL state or any read error returns None
and the caller goes through SQLMesh as before. Nothing is cached: every call reads the file under the warehouse lock.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

STATE_SCHEMA = "sqlmesh"
# (state schema version, sqlmesh version) pairs whose _environments layout this reader was checked against.
CHECKED = frozenset({(102, "0.236.4")})


@dataclass(frozen=True)
class EnvRecord:
    name: str
    finalized: bool
    expired: bool
    snapshots: dict[str, tuple[str, str]]  # model name -> (fingerprint, version)


def sanitize_name(name: str) -> str:
    """SQLMesh's ``Environment.sanitize_name``: non-word characters to ``_``, lower case."""
    return re.sub(r"\W", "_", name).lower()


def read_environments(state_file: Path, names: Iterable[str]) -> dict[str, EnvRecord | None] | None:
    """Sanitized name -> its record (None: no such environment); None when this reader must not be used."""
    import duckdb

    if not state_file.is_file():
        return None
    wanted = sorted({sanitize_name(n) for n in names})
    try:
        con = duckdb.connect(str(state_file), read_only=True)
    except duckdb.Error:
        return None
    try:
        # STATE_SCHEMA is this module's constant (SQLMesh's default state schema), not input.
        versions = con.execute(f"select schema_version, sqlmesh_version from {STATE_SCHEMA}._versions").fetchall()  # noqa: S608
        if len(versions) != 1 or (int(versions[0][0]), str(versions[0][1])) not in CHECKED:
            return None
        # No bound parameters: binding a Python list makes duckdb import pandas and numpy (~1 s of a ~1.5 s call);
        # the few environment rows are filtered here instead.
        rows = [r for r in con.execute(f"select name, snapshots, finalized_ts, expiration_ts from "  # noqa: S608
                                       f"{STATE_SCHEMA}._environments").fetchall() if r[0] in wanted]
    except duckdb.Error:
        return None
    finally:
        con.close()
    now_ms = int(time.time() * 1000)
    out: dict[str, EnvRecord | None] = dict.fromkeys(wanted)
    for name, snapshots, finalized_ts, expiration_ts in rows:
        infos = json.loads(snapshots or "[]")
        out[name] = EnvRecord(
            name=name, finalized=finalized_ts is not None, expired=expiration_ts is not None and expiration_ts <= now_ms,
            snapshots={s["name"]: (json.dumps(s["fingerprint"], sort_keys=True), str(s["version"])) for s in infos})
    return out
