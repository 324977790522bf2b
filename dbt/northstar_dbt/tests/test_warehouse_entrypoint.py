"""The warehouse component entry point, run as the release engine runs it: a subprocess, argv in, one JSON object out.

Real SQLMesh over the real dbt project on DuckDB (a copy in tmp_path; warehouse and state are separate DuckDB files).
Covers what the release engine relies on: dev plan+apply, promotion as a virtual update (0 rows recomputed),
categorization (add column = non-breaking, finance filter change = breaking and blocked without an acknowledgement),
explicit audits (singular tests), dbt unit tests, table checksums unchanged by a blocked plan, rollback as a virtual
update, pins against the janitor, and the refusal when the snapshots are gone.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from northstar_contracts.warehouse import parse_warehouse
from northstar_dbt.project import copy_pilot_project, copy_project

MART = "fct_daily_revenue"
FILTER_OLD = "where status in ('shipped', 'completed')"
FILTER_NEW = "where status = 'completed'"


@dataclass(frozen=True)
class Result:
    code: int
    payload: dict[str, Any]
    stderr: str


def run_wh(*args: str | Path) -> Result:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    proc = subprocess.run([sys.executable, "-m", "northstar_dbt.warehouse", *map(str, args)],
                          capture_output=True, text=True, env=env, timeout=600)
    # stdout must be exactly one JSON object: no SQLMesh / dbt log lines.
    lines = proc.stdout.strip().splitlines()
    assert len(lines) == 1, (proc.stdout[-2000:], proc.stderr[-2000:])
    payload = json.loads(lines[0])
    parse_warehouse(payload)  # the typed contract: unknown, missing or mistyped fields raise ContractError
    return Result(proc.returncode, payload, proc.stderr)


@dataclass(frozen=True)
class Warehouse:
    root: Path
    v1: Path
    file: Path
    state: Path
    dev_apply: Result

    def args(self, project: Path) -> list[str | Path]:
        return ["--project", project, "--warehouse", self.file, "--state", self.state]

    def plan(self, project: Path, env: str, *extra: str) -> Result:
        return run_wh("plan", *self.args(project), "--env", env, *extra)

    def tables(self, env: str) -> dict[str, Any]:
        result = run_wh("tables", *self.args(self.v1), "--env", env)
        assert result.code == 0, result.payload
        return result.payload["tables"]


@pytest.fixture(scope="module")
def wh(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Warehouse]:
    root = tmp_path_factory.mktemp("warehouse")
    v1 = copy_pilot_project(root / "v1")  # the entry point's mechanics on the 5-model pilot slice
    file, state = root / "wh" / "warehouse.duckdb", root / "wh" / "sqlmesh_state.duckdb"
    first = run_wh("plan", "--project", v1, "--warehouse", file, "--state", state, "--env", "dev", "--apply")
    yield Warehouse(root, v1, file, state, first)


def edited_copy(wh: Warehouse, name: str, rel: str, old: str, new: str) -> Path:
    project = copy_project(wh.root / name, source=wh.v1)
    path = project / rel
    text = path.read_text()
    assert old in text, f"fixture edit no longer applies to {rel}: {old!r}"
    path.write_text(text.replace(old, new, 1))
    return project


def test_dev_plan_apply_builds_every_model(wh: Warehouse) -> None:
    r = wh.dev_apply
    assert r.code == 0, r.payload
    p = r.payload
    assert p["applied"] and p["is_new_environment"] and not p["virtual_update"]
    assert p["categories"][MART] == "added" and p["needs_ack"] == []
    assert p["rows_recomputed_by_model"] == {"fct_daily_revenue": 5, "fct_orders": 30, "raw_customers": 12,
                                             "raw_orders": 30, "raw_payments": 34}
    assert p["rows_recomputed"] == 111  # table models and seeds only: the staging views hold no rows
    assert set(wh.tables("dev")) >= {MART, "fct_orders", "stg_orders", "raw_orders"}
    print(f"dev plan+apply: {p['timings']}")  # noqa: T201 - timing evidence in -s output


def test_promotion_to_staging_and_prod_is_a_virtual_update(wh: Warehouse) -> None:
    for env in ("staging", "prod"):
        r = wh.plan(wh.v1, env, "--apply")
        assert r.code == 0, r.payload
        assert r.payload["applied"] and r.payload["virtual_update"]
        assert r.payload["rows_recomputed"] == 0 and r.payload["new_snapshots"] == []
        print(f"promotion to {env}: {r.payload['timings']}")  # noqa: T201
    assert wh.tables("prod") == {k: {**v, "relation": v["relation"].replace("analytics__dev", "analytics")}
                                 for k, v in wh.tables("dev").items()}
    again = wh.plan(wh.v1, "prod", "--apply")  # idempotent
    assert again.code == 0 and again.payload["has_changes"] is False and again.payload["rows_recomputed"] == 0


def test_added_column_is_non_breaking_and_needs_no_ack(wh: Warehouse) -> None:
    project = edited_copy(wh, "add_column", f"models/marts/{MART}.sql", "as revenue\n",
                          "as revenue,\n    count(*) * 2 as double_count\n")
    r = wh.plan(project, "dev")
    assert r.code == 0, r.payload
    assert r.payload["categories"][MART] == "non-breaking"
    # the singular test reading the mart is only indirectly affected
    assert set(r.payload["categories"].values()) <= {"non-breaking", "indirect-non-breaking"}
    assert r.payload["needs_ack"] == [] and not r.payload["applied"]
    assert [b["model"] for b in r.payload["backfill"]] == [MART]


def test_breaking_finance_change_needs_ack_rollback_pins_and_janitor(wh: Warehouse) -> None:
    v2 = edited_copy(wh, "finance_filter", f"models/marts/{MART}.sql", FILTER_OLD, FILTER_NEW)
    prod_before, dev_before = wh.tables("prod"), wh.tables("dev")

    blocked = wh.plan(v2, "dev", "--apply")
    assert blocked.code == 1, blocked.payload
    assert blocked.payload["categories"][MART] == "breaking"
    assert blocked.payload["changes"][MART]["tags"] == ["finance"]
    assert blocked.payload["needs_ack"] == [MART] and blocked.payload["missing_ack"] == [MART]
    assert not blocked.payload["applied"] and "acknowledgement required" in blocked.payload["error"]
    assert wh.tables("dev") == dev_before and wh.tables("prod") == prod_before

    acked = wh.plan(v2, "dev", "--apply", "--ack", MART)
    assert acked.code == 0, acked.payload
    assert acked.payload["applied"] and acked.payload["acknowledged"] == [MART]
    assert acked.payload["rows_recomputed_by_model"] == {MART: wh.tables("dev")[MART]["rows"]}
    assert wh.tables("dev")[MART]["checksum"] != dev_before[MART]["checksum"]
    assert wh.tables("prod") == prod_before

    pin = run_wh("pin", *wh.args(v2), "--name", "rel-v2")
    assert pin.code == 0 and pin.payload["pin"] == "keep_rel_v2" and pin.payload["rows_recomputed"] == 0, pin.payload

    # Rollback = re-plan dev from the old project: same snapshots, virtual update, 0 rows.
    back = wh.plan(wh.v1, "dev", "--apply", "--virtual-only")
    assert back.code == 0, back.payload
    assert back.payload["virtual_update"] and back.payload["rows_recomputed"] == 0
    assert wh.tables("dev") == dev_before
    print(f"rollback: {back.payload['timings']}")  # noqa: T201

    # The pin keeps v2's snapshots alive through an immediate janitor run ...
    assert run_wh("janitor", *wh.args(wh.v1), "--ignore-ttl").code == 0
    forward = wh.plan(v2, "dev", "--apply", "--virtual-only")
    assert forward.code == 0 and forward.payload["rows_recomputed"] == 0, forward.payload
    assert wh.plan(wh.v1, "dev", "--apply", "--virtual-only").code == 0

    # ... and once unpinned and janitored they are gone: a virtual-only re-plan is refused, nothing applied.
    assert run_wh("unpin", *wh.args(v2), "--name", "rel-v2").code == 0
    assert run_wh("janitor", *wh.args(wh.v1), "--ignore-ttl").code == 0
    envs = run_wh("envs", *wh.args(wh.v1)).payload["environments"]
    assert "keep_rel_v2" not in [e["name"] for e in envs]
    refused = wh.plan(v2, "dev", "--apply", "--virtual-only", "--ack", MART)
    assert refused.code == 1, refused.payload
    assert MART in refused.payload["snapshots_gone"] and "refused" in refused.payload["error"]
    assert not refused.payload["applied"]
    assert wh.tables("dev") == dev_before and wh.tables("prod") == prod_before


def test_check_runs_unit_tests_scratch_audit_and_plan_in_one_process(wh: Warehouse) -> None:
    """The pre-deploy gate in one call: the three records the separate subcommands print, and one verdict."""
    v2 = edited_copy(wh, "check_finance", f"models/marts/{MART}.sql", FILTER_OLD, FILTER_NEW)
    prod_before = wh.tables("prod")
    r = run_wh("check", *wh.args(v2), "--env", "prod")
    assert r.code == 1, r.payload
    p = r.payload
    assert p["command"] == "check" and p["ok"] is False
    # The filter change breaks the finance rule twice pinned in the pilot: by the dbt unit test and by the singular
    # test (an audit on the scratch build). All three parts ran in the one process and each reports its own verdict.
    assert not p["unit_test"]["ok"] and p["unit_test"]["failed"] == [
        "unit_test.northstar.fct_daily_revenue.fct_daily_revenue_counts_only_recognized_orders"]
    assert not p["audit"]["ok"] and p["audit"]["mode"] == "scratch" and p["audit"]["passed"] >= 15
    assert p["audit"]["failed"] == ["assert_daily_revenue_matches_payments"]
    assert p["plan"]["categories"][MART] == "breaking" and p["plan"]["missing_ack"] == [MART]
    assert not p["plan"]["applied"] and wh.tables("prod") == prod_before  # nothing shared changed
    print(f"check: {p['timings']} plan {p['plan']['timings']} audit {p['audit']['timings']}")  # noqa: T201


def test_failing_singular_test_fails_audit(wh: Warehouse) -> None:
    bad = edited_copy(wh, "bad_singular", "tests/assert_daily_revenue_matches_payments.sql",
                      "where mart.total <> source.total", "where mart.total = source.total")
    r = run_wh("audit", "--project", bad, "--scratch")
    assert r.code == 1, r.payload
    assert r.payload["failed"] == ["assert_daily_revenue_matches_payments"]
    failing = [a for a in r.payload["audits"] if a["status"] == "fail"]
    assert failing[0]["failing_rows"] == 1 and "query" in failing[0]

    good = run_wh("audit", "--project", wh.v1, "--scratch")
    assert good.code == 0 and good.payload["passed"] >= 15 and good.payload["failed"] == [], good.payload
    live = run_wh("audit", *wh.args(wh.v1))  # audits what is built in the shared warehouse
    assert live.code == 0 and live.payload["mode"] == "warehouse", live.payload


def test_failing_unit_test_fails(wh: Warehouse) -> None:
    good = run_wh("unit-test", "--project", wh.v1)
    assert good.code == 0 and good.payload["passed"] == 1, good.payload  # the pilot's one unit test
    bad = edited_copy(wh, "bad_unit", "models/marts/schema.yml", "revenue: 19.75}", "revenue: 20.00}")
    r = run_wh("unit-test", "--project", bad)
    assert r.code == 1, r.payload
    assert r.payload["failed"] == ["unit_test.northstar.fct_daily_revenue.fct_daily_revenue_counts_only_recognized_orders"]
    failing = [t for t in r.payload["unit_tests"] if t["status"] == "fail"]
    assert len(failing) == 1 and failing[0]["message"]


def test_usage_errors_are_json_exit_2(tmp_path: Path) -> None:
    r = run_wh("plan", "--project", tmp_path)
    assert r.code == 2 and r.payload["usage"] and "--env" in r.payload["error"]
    r = run_wh("plan", "--project", tmp_path, "--warehouse", tmp_path / "w.duckdb", "--env", "dev")
    assert r.code == 2 and "not a dbt/SQLMesh project" in r.payload["error"]
