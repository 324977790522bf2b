"""Promotion and rollback from SQLMesh state (``plan --from-env``), against the real SQLMesh on DuckDB (pilot slice).

What the release engine relies on: a switch to a snapshot set SQLMesh state already holds does not load the dbt
project (it works with the project's models gone), points the env's views at exactly the source env's physical
tables, recomputes nothing and skips the post-apply audits; it refuses, changing nothing, when the source is not
usable, and otherwise falls back to loading the project. Audits still run after any backfill.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pytest

from northstar_contracts.warehouse import parse_warehouse
from northstar_dbt.project import copy_pilot_project, copy_project

MART = "fct_daily_revenue"
PHYSICAL = re.compile(r"sqlmesh__\w+\.\w+", re.IGNORECASE)


@dataclass(frozen=True)
class Result:
    code: int
    payload: dict[str, Any]
    stderr: str


def run_wh(*args: str | Path) -> Result:
    """The entry point as the engine runs it: a subprocess printing exactly one JSON object (typed contract)."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    proc = subprocess.run([sys.executable, "-m", "northstar_dbt.warehouse", *map(str, args)],
                          capture_output=True, text=True, env=env, timeout=600)
    lines = proc.stdout.strip().splitlines()
    assert len(lines) == 1, (proc.stdout[-2000:], proc.stderr[-2000:])
    payload = json.loads(lines[0])
    parse_warehouse(payload)
    return Result(proc.returncode, payload, proc.stderr)


@dataclass(frozen=True)
class Wh:
    root: Path
    v1: Path
    file: Path
    state: Path
    dev: Result

    def args(self, project: Path) -> list[str | Path]:
        return ["--project", project, "--warehouse", self.file, "--state", self.state]

    def plan(self, project: Path, env: str, *extra: str) -> Result:
        return run_wh("plan", *self.args(project), "--env", env, *extra)

    def envs(self) -> list[str]:
        return sorted(e["name"] for e in run_wh("envs", *self.args(self.v1)).payload["environments"])


def views(file: Path, schema: str) -> dict[str, str]:
    """View name -> the physical table it selects from, for every view in ``schema`` of the warehouse."""
    with duckdb.connect(str(file), read_only=True) as con:
        rows = con.execute("select view_name, sql from duckdb_views() where schema_name = ?", [schema]).fetchall()
    found = {name: PHYSICAL.findall(sql) for name, sql in rows}
    return {name: refs[0].lower() for name, refs in found.items() if refs}


@pytest.fixture(scope="module")
def wh(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Wh]:
    root = tmp_path_factory.mktemp("from-state")
    v1 = copy_pilot_project(root / "v1")
    file, state = root / "wh" / "warehouse.duckdb", root / "wh" / "sqlmesh_state.duckdb"
    dev = run_wh("plan", "--project", v1, "--warehouse", file, "--state", state, "--env", "dev", "--apply",
                 "--verify", "--pin", "dev_v1")
    yield Wh(root, v1, file, state, dev)


def gutted(wh: Wh, name: str) -> Path:
    """A copy of v1 whose models are gone and whose one model is garbage: loading it would fail or differ."""
    project = copy_project(wh.root / name, source=wh.v1)
    shutil.rmtree(project / "models" / "staging")
    (project / "models" / "marts" / f"{MART}.sql").write_text("select from where -- not SQL\n")
    return project


def test_backfill_runs_the_audits(wh: Wh) -> None:
    p = wh.dev.payload
    assert wh.dev.code == 0 and p["applied"] and not p["virtual_update"] and p["from_state"] is None, p
    assert p["verify"]["audits_skipped"] is None and p["verify"]["audits_passed"] >= 15
    assert p["pins"]["pinned"] == "keep_dev_v1"


def test_a_pin_is_the_switched_env_record_without_views(wh: Wh) -> None:
    """The pin after a verified switch is dev's environment record copied into state (same snapshots, finalized,
    never expiring), with no view in the warehouse: nothing reads a pin's views, only its record."""
    with duckdb.connect(str(wh.state), read_only=True) as con:
        rows = {r[0]: r[1:] for r in con.execute("select name, snapshots, finalized_ts, expiration_ts "
                                                  "from sqlmesh._environments").fetchall()}
    ids = {name: sorted((s["name"], json.dumps(s["fingerprint"], sort_keys=True), s["version"])
                        for s in json.loads(rows[name][0])) for name in ("dev", "keep_dev_v1")}
    assert ids["keep_dev_v1"] == ids["dev"] and len(ids["dev"]) >= 5
    assert rows["keep_dev_v1"][1] is not None and rows["keep_dev_v1"][2] is None  # finalized, never expires
    with duckdb.connect(str(wh.file), read_only=True) as con:
        schemas = {r[0] for r in con.execute("select schema_name from duckdb_schemas()").fetchall()}
    assert "analytics__dev" in schemas and not any("keep" in s for s in schemas), schemas


def test_promotion_from_state_does_not_load_the_project(wh: Wh) -> None:
    project = gutted(wh, "gutted")
    r = wh.plan(project, "staging", "--apply", "--verify", "--from-env", "keep_dev_v1", "--state-only",
                "--pin", "staging_v1")
    assert r.code == 0, (r.payload, r.stderr[-2000:])
    p = r.payload
    assert p["from_state"] == "keep_dev_v1" and p["state_fallback"] is None
    assert p["applied"] and p["virtual_update"] and p["rows_recomputed"] == 0 and p["new_snapshots"] == []
    assert "load_s" not in p["timings"] and "config_s" in p["timings"]
    assert {"source_s", "verify_s", "pins_s"} <= set(p["timings"])  # the switch itemised, one state read
    # No audit re-run after a pure virtual update, but every view resolved.
    assert p["verify"]["ok"] and p["verify"]["audits"] == [] and "virtual update" in p["verify"]["audits_skipped"]
    assert set(p["verify"]["tables"]) >= {MART, "fct_orders", "stg_orders", "raw_orders"}
    assert p["pins"]["pinned"] == "keep_staging_v1"
    # The env's views point at exactly the dev env's physical tables.
    dev, staging = views(wh.file, "analytics__dev"), views(wh.file, "analytics__staging")
    assert dev and staging == dev


def test_refusal_changes_nothing_and_fallback_loads_the_project(wh: Wh) -> None:
    before_envs, before_views = wh.envs(), views(wh.file, "analytics")
    refused = wh.plan(gutted(wh, "gutted_refusal"), "prod", "--apply", "--verify", "--from-env", "keep_nope",
                      "--state-only")
    assert refused.code == 1 and refused.payload["kind"] == "refused", refused.payload
    assert "keep_nope: no such SQLMesh environment" in refused.payload["error"]
    assert "nothing changed" in refused.payload["error"]
    assert wh.envs() == before_envs and views(wh.file, "analytics") == before_views == {}

    # Without --state-only: the refusal is recorded and the project is loaded instead (a full-path plan).
    fallback = wh.plan(wh.v1, "prod", "--apply", "--verify", "--from-env", "keep_nope")
    p = fallback.payload
    assert fallback.code == 0, p
    assert p["from_state"] is None and "keep_nope" in p["state_fallback"] and "load_s" in p["timings"]
    # A full-path promotion that is a pure virtual update skips the audits too.
    assert p["virtual_update"] and p["rows_recomputed"] == 0 and p["verify"]["audits_skipped"]
    assert views(wh.file, "analytics") == views(wh.file, "analytics__dev")


def test_rollback_from_state_and_audits_after_a_backfill(wh: Wh) -> None:
    v2 = copy_project(wh.root / "v2", source=wh.v1)
    mart = v2 / "models" / "marts" / f"{MART}.sql"
    mart.write_text(mart.read_text().replace("as revenue\n", "as revenue,\n    count(*) * 2 as double_count\n", 1))
    forward = wh.plan(v2, "dev", "--apply", "--verify")
    assert forward.code == 0, forward.payload
    assert not forward.payload["virtual_update"] and forward.payload["verify"]["audits_skipped"] is None
    assert forward.payload["verify"]["audits_passed"] >= 15  # audits re-run after a backfill
    assert views(wh.file, "analytics__dev")[MART] != views(wh.file, "analytics__staging")[MART]

    back = wh.plan(gutted(wh, "gutted_rollback"), "dev", "--apply", "--verify", "--virtual-only",
                   "--from-env", "keep_dev_v1", "--state-only")
    assert back.code == 0, back.payload
    assert back.payload["from_state"] == "keep_dev_v1" and back.payload["rows_recomputed"] == 0
    assert back.payload["verify"]["audits_skipped"]
    assert views(wh.file, "analytics__dev") == views(wh.file, "analytics__staging")


def test_serving_names_the_pin_whose_snapshot_set_the_env_serves(wh: Wh) -> None:
    """``serving`` (the engine's reality check) reads environment records only: it works with the project gutted."""
    project = gutted(wh, "gutted_serving")
    r = run_wh("serving", *wh.args(project), "--env", "dev", "--candidate", "v2=keep_gone",
               "--candidate", "v1=keep_dev_v1", "--candidate", "v1b=keep_staging_v1")
    p = r.payload
    assert r.code == 0 and p["exists"] and p["finalized"] and p["snapshots"] >= 5, (p, r.stderr[-2000:])
    assert p["serving"] == "v1"  # dev was rolled back to keep_dev_v1's snapshot set (test above): first match wins
    assert [(c["sha256"], c["status"]) for c in p["candidates"]] == [("v2", "no pin"), ("v1", "match"),
                                                                     ("v1b", "match")]
    assert "load_s" not in p["timings"] and "config_s" not in p["timings"] and "direct_read_s" in p["timings"]

    absent = run_wh("serving", *wh.args(project), "--env", "qa", "--candidate", "v1=keep_dev_v1")
    assert absent.code == 0 and absent.payload["serving"] == "absent" and not absent.payload["exists"]

    bad = run_wh("serving", *wh.args(project), "--env", "dev", "--candidate", "no-equals-sign")
    assert bad.code == 2 and "SHA=PIN_ENVIRONMENT" in bad.payload["error"], bad.payload


def test_serving_compares_model_names_fingerprints_and_versions() -> None:
    from northstar_dbt.warehouse.serving import differing

    a = {'"w"."analytics"."m1"': ("f1", "v1"), '"w"."analytics"."m2"': ("f2", "v2")}
    assert differing(a, dict(a)) == []
    assert differing(a, {**a, '"w"."analytics"."m2"': ("f2x", "v2")}) == ["m2"]
    assert differing(a, {**a, '"w"."analytics"."m2"': ("f2", "v3")}) == ["m2"]
    assert differing(a, {'"w"."analytics"."m1"': ("f1", "v1")}) == ["m2"]
    assert differing({}, a) == ["m1", "m2"]


def test_direct_state_read_answers_what_sqlmesh_state_reader_answers(wh: Wh, monkeypatch: pytest.MonkeyPatch) -> None:
    """``serving`` reads environment records straight from the DuckDB state (no SQLMesh import): the same records
    SQLMesh's own state reader returns, and no direct read at all for a state version it was not checked against."""
    from sqlmesh import Context

    from northstar_dbt import sqlmesh_settings
    from northstar_dbt.warehouse import state_tables
    from northstar_dbt.warehouse.serving import differing, snapshot_map

    names = ["dev", "keep_dev_v1", "staging", "keep_staging_v1", "no_such_env"]
    direct = state_tables.read_environments(wh.state, names)
    assert direct is not None and direct["no_such_env"] is None and direct["dev"] is not None
    monkeypatch.setenv("NORTHSTAR_DUCKDB_PATH", str(wh.file))
    monkeypatch.setenv("NORTHSTAR_SQLMESH_STATE_PATH", str(wh.state))
    context = Context(paths=str(wh.v1), config=sqlmesh_settings.state_only_config(wh.v1, "duckdb"), load=False)
    try:
        via_sqlmesh = {n: context.state_reader.get_environment(n) for n in names}
    finally:
        context.close()
    for name in names:
        ours, theirs = direct[name], via_sqlmesh[name]
        assert (ours is None) == (theirs is None), name
        if ours is None or theirs is None:
            continue
        assert (ours.finalized, ours.expired) == (bool(theirs.finalized_ts), theirs.expired), name
        assert {n: v for n, (_, v) in ours.snapshots.items()} == {n: v for n, (_, v) in snapshot_map(theirs).items()}
    present = [n for n in names if direct[n] is not None]
    for a in present:
        for b in present:  # same verdict for every pair: fingerprints compared both ways agree
            da, db = direct[a], direct[b]
            assert da is not None and db is not None
            assert differing(da.snapshots, db.snapshots) == differing(snapshot_map(via_sqlmesh[a]),
                                                                      snapshot_map(via_sqlmesh[b])), (a, b)
    monkeypatch.setattr(state_tables, "CHECKED", frozenset())
    assert state_tables.read_environments(wh.state, names) is None  # unchecked version: serving uses SQLMesh
    assert state_tables.read_environments(wh.root / "missing.duckdb", names) is None


def test_dq_writes_the_wap_env_from_state_or_falls_back_to_a_load(wh: Wh) -> None:
    """The data-quality gate's write step over a pinned digest is a virtual update from state (no project load);
    an unusable source falls back to loading the project and says why."""
    r = run_wh("dq", *wh.args(wh.v1), "--env", "qa", "--from-env", "keep_dev_v1")
    p = r.payload
    assert r.code == 0 and p["ok"], (p, r.stderr[-2000:])
    assert p["candidate_environment"] == "wap_qa" and p["plan"]["from_state"] == "keep_dev_v1"
    assert p["plan"]["virtual_update"] and p["plan"]["rows_recomputed"] == 0 and p["plan"]["state_fallback"] is None
    assert "load_s" not in p["timings"] and "source_s" in p["timings"]
    assert views(wh.file, "analytics__wap_qa") == views(wh.file, "analytics__dev")

    back = run_wh("dq", *wh.args(wh.v1), "--env", "qa2", "--from-env", "keep_no_such_pin")
    q = back.payload
    assert back.code == 0 and q["ok"] and q["plan"]["from_state"] is None, (q, back.stderr[-2000:])
    assert "no usable source environment" in q["plan"]["state_fallback"] and "load_s" in q["timings"]
