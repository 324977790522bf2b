"""Unit tests of ``./release demo`` (northstar_release.demo) and the shared CLI driver (northstar_release.cli_driver).

What is covered here: the step records the demo produces (ok / failed / "adapter not available"), the summary table and
the single JSON document (shape, exit codes 0/1/2), the set-up refusals (no commits, work dir in use), the evidence
extraction from CLI/entry-point JSON (rows recomputed, failed gates, table fingerprints), the edits the demo makes in
its clone, and the driver's streaming of a CLI's stderr while parsing its one JSON document.

What is NOT run here, on purpose: one end-to-end run of the demo. It clones the repository, builds every artifact kind
(the Spark job PEX needs Pants inside the clone), runs SQLMesh plans and audits, Spark in local mode and the Airflow
DagBag many times -- minutes of wall time and gigabytes of caches, too heavy for the unit suite. Run it by hand:
``./release demo`` (or ``./release demo --json --keep --workdir /tmp/demo``).
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from rich.console import Console

from northstar_release import demo
from northstar_release.cli_driver import OUTSIDE_FREEZE, CommandFailed, ReleaseCli, commit_all, parse_json_document
from northstar_release.demo import (
    AdapterNotAvailable,
    Demo,
    DemoReport,
    RollbackTiming,
    StepFailed,
    StepRecord,
    render,
)

REPO = Path(__file__).resolve().parents[3]


def consoles() -> tuple[Console, io.StringIO, Console, io.StringIO]:
    out_buf, err_buf = io.StringIO(), io.StringIO()
    return (Console(file=out_buf, width=200, soft_wrap=True), out_buf,
            Console(file=err_buf, width=200, soft_wrap=True), err_buf)


def make_demo(tmp_path: Path, *, as_json: bool = True, origin: Path | None = None,
              workdir: Path | None = None) -> tuple[Demo, io.StringIO, io.StringIO]:
    out, out_buf, err, err_buf = consoles()
    d = Demo(as_json=as_json, keep=False, workdir=workdir or tmp_path / "work", origin=origin or tmp_path,
             release=tmp_path / "no-such-release", err=err, out=out)
    return d, out_buf, err_buf


def steps_from_demo(tmp_path: Path) -> tuple[Demo, list[StepRecord]]:
    """Real step records, produced by the demo's own step() context manager."""
    d, _, _ = make_demo(tmp_path)
    with d.step("a1 build v1", "HEAD packaged") as s:
        s.result = "rel-abc: dag_bundle:airflow-dags 0123456789ab"
    with d.step("b4 good -> staging", "0 rows recomputed") as s:
        raise AdapterNotAvailable("the release has no warehouse_project artifact")
    with d.step("c4 bad -> dev", "BLOCKED (exit 1)") as s:
        raise StepFailed("expected exit 1 / blocked, got exit 0 / succeeded")
    with d.step("d1 rollback", "succeeded") as s:
        raise CommandFailed("./release rollback: exit 2; unknown release")
    with d.step("e1 audit verify", "intact") as s:
        raise KeyError("entries_checked")
    return d, d.report.steps


# ---------------------------------------------------------------------------------------------- step records ---
def test_step_records_ok_failed_and_adapter_not_available(tmp_path: Path) -> None:
    _, steps = steps_from_demo(tmp_path)
    assert [s.ok for s in steps] == [True, False, False, False, False]
    assert steps[0].result.startswith("rel-abc")
    assert steps[1].result == "adapter not available: the release has no warehouse_project artifact"
    assert steps[2].result == "expected exit 1 / blocked, got exit 0 / succeeded"
    assert "unknown release" in steps[3].result
    assert steps[4].result.startswith("error: KeyError")  # unexpected output still ends as a failed step
    assert all(s.seconds >= 0 for s in steps)


def test_json_document_shape_and_exit_code_1(tmp_path: Path) -> None:
    d, steps = steps_from_demo(tmp_path)
    report = DemoReport(steps=steps, rollback=RollbackTiming(seconds=2.5, engine_s=0.1, component_s=2.2,
                                                             rows_recomputed=None),
                        prod_tables_unchanged=False, workdir=str(tmp_path))
    out, out_buf, err, err_buf = consoles()
    render(report, as_json=True, out=out, err=err)
    doc = json.loads(out_buf.getvalue())  # exactly one JSON document on stdout, nothing else
    assert set(doc) == {"ok", "steps", "rollback", "prod_tables_unchanged", "workdir", "health_watch"}
    assert doc["health_watch"] == {"regressions": [], "rolled_back_to": None, "detection_to_rollback_s": None,
                                   "watch_command_s": None, "dashboard": None}
    assert doc["ok"] is False
    assert [set(s) for s in doc["steps"]] == [{"step", "expected", "result", "ok", "seconds"}] * len(steps)
    assert doc["rollback"] == {"seconds": 2.5, "engine_s": 0.1, "component_s": 2.2, "rows_recomputed": None}
    assert doc["workdir"] == str(tmp_path)
    assert "release demo: summary" in err_buf.getvalue()  # the table goes to stderr under --json
    assert "adapter not available" in err_buf.getvalue()
    assert report.exit_code() == 1


def test_all_ok_is_exit_0_and_table_on_stdout_without_json(tmp_path: Path) -> None:
    report = DemoReport(steps=[StepRecord("a1", "built", "rel-1", True, 1.0), StepRecord("d1", "<= 10 s", "2.1s",
                                                                                          True, 2.1)],
                        rollback=RollbackTiming(2.1, 0.1, 1.9, 0), prod_tables_unchanged=True, workdir="/w")
    assert report.ok and report.exit_code() == 0
    assert report.to_json()["ok"] is True
    out, out_buf, err, _ = consoles()
    render(report, as_json=False, out=out, err=err)
    text = out_buf.getvalue()
    assert "release demo: summary" in text and "rel-1" in text
    with pytest.raises(json.JSONDecodeError):
        json.loads(text)


def test_no_steps_is_not_success_and_error_is_exit_2() -> None:
    assert DemoReport().exit_code() == 1
    report = DemoReport(steps=[StepRecord("setup", "x", "y", True, 0.0)], error="no commits")
    assert report.exit_code() == 2
    assert report.to_json()["ok"] is False and report.to_json()["exit_code"] == 2


# ------------------------------------------------------------------------------------------------- set-up ---
def test_refuses_a_checkout_without_commits(tmp_path: Path) -> None:
    origin = tmp_path / "empty"
    origin.mkdir()
    subprocess.run(["git", "init", "-q", str(origin)], check=True)
    d, out_buf, err_buf = make_demo(tmp_path, origin=origin)
    assert d.run() == 2
    doc = json.loads(out_buf.getvalue())
    assert doc["ok"] is False and doc["exit_code"] == 2 and "has no commits" in doc["error"]
    assert "has no commits" in err_buf.getvalue()


def test_refuses_a_workdir_from_an_earlier_run(tmp_path: Path) -> None:
    origin = tmp_path / "origin"
    origin.mkdir()
    subprocess.run(["git", "init", "-q", str(origin)], check=True)
    (origin / "f.txt").write_text("x\n")
    commit_all(origin, "first")
    work = tmp_path / "work"
    (work / "clone").mkdir(parents=True)
    d, out_buf, _ = make_demo(tmp_path, origin=origin, workdir=work)
    assert d.run() == 2
    assert "already holds clone/" in json.loads(out_buf.getvalue())["error"]


# --------------------------------------------------------------------------------------- evidence extraction ---
def test_rows_recomputed_reads_only_the_warehouse_switches() -> None:
    """One field per fact: ``switches[kind=warehouse_project].evidence.rows_recomputed``, nothing else (issue 8)."""
    doc = {"messages": ["deployed warehouse-project (backfill, 99 rows recomputed)"],
           "evidence": [{"rows_recomputed": 7}],  # not a switch: ignored
           "switches": [{"kind": "dag_bundle", "changed": True, "evidence": {"rows_recomputed": 3}},
                        {"kind": "warehouse_project", "changed": True, "evidence": {"rows_recomputed": 12}}]}
    assert demo.rows_recomputed(doc) == 12
    assert demo.rows_recomputed({"messages": ["deployed airflow-dags"], "switches": []}) is None
    unchanged = {"kind": "warehouse_project", "changed": False, "evidence": {"sha256": "a" * 64}}
    assert demo.rows_recomputed({"switches": [unchanged]}) == 0  # already live: nothing ran, nothing recomputed
    hedge = {"kind": "warehouse_project", "changed": True, "evidence": {"row_count": 0}}
    assert demo.rows_recomputed({"switches": [hedge]}) is None  # another field name is not evidence
    flag = {"kind": "warehouse_project", "changed": True, "evidence": {"rows_recomputed": True}}
    assert demo.rows_recomputed({"switches": [flag]}) is None  # a bool is not a row count


def test_failed_gates_audits_and_clock_overrides() -> None:
    doc = {"gate_results": [
        {"gate": "dag_integrity", "target": "t", "outcome": "failed", "summary": "1 import error",
         "evidence": {"import_errors": {"dags/x.py": "boom"}, "failed": ["refunded_amount"]}},
        {"gate": "warehouse_audit", "target": "w", "outcome": "failed", "summary": "audits failed",
         "evidence": {"audits": {"failed": ["not_null_fct_daily_revenue_refunded_amount on fct_daily_revenue"]},
                      "unit_tests": {"failed": []}}},
        {"gate": "warehouse_audit", "target": "v", "outcome": "failed", "summary": "check failed",
         "evidence": {"error": {"error": "boom"}}},
        {"gate": "infra_policy", "target": "i", "outcome": "passed", "summary": "ok", "evidence": {}}]}
    assert [g["gate"] for g in demo.failed_gates(doc)] == ["dag_integrity", "warehouse_audit", "warehouse_audit"]
    assert demo.gate_line(doc["gate_results"][0]) == "dag_integrity [t]: 1 import error"
    assert [demo.failed_audits(g) for g in demo.failed_gates(doc)] == [
        [], ["not_null_fct_daily_revenue_refunded_amount on fct_daily_revenue"], []]
    export = {"audit_entries": [
        {"action": "deploy.start", "payload": {"clock": {"override": "2026-01-01T12:00:00Z", "wall_clock": "x"}}},
        {"action": "deploy.switch", "payload": {"clock": {"override": "ignored"}}},
        {"action": "rollback.start", "payload": {"clock": {"override": None}}}]}
    assert demo.clock_overrides(export) == {"2026-01-01T12:00:00Z", None}
    assert demo.deployment_starts(export) == 2


def test_table_fingerprints_of_the_warehouse_tables_payload() -> None:
    payload = {"ok": True, "environment": "prod", "tables": {
        "fct_orders": {"relation": "marts.fct_orders", "rows": 40, "checksum": "abc", "fingerprint": "1"},
        "fct_daily_revenue": {"relation": "marts.fct_daily_revenue", "rows": 7, "checksum": "def",
                              "fingerprint": "2"}}}
    fp = demo.table_fingerprints(payload)
    assert list(fp) == ["fct_daily_revenue", "fct_orders"]
    assert fp["fct_orders"] == {"rows": 40, "checksum": "abc"}
    assert "fct_orders: 40 rows" in demo.fingerprints_line(fp)
    # The field names the entry point never emitted are refused by name, not read as None.
    hedged = {"tables": {"t": {"relation": "r", "row_count": 1, "sha256": "x", "fingerprint": "f"}}}
    with pytest.raises(demo.StepFailed, match=r"table t: TableFingerprint: .*row_count: unknown field"):
        demo.table_fingerprints(hedged)


# --------------------------------------------------------------------------------------------- clone edits ---
FCT_ORDERS = """select
    o.order_id,
    cast(coalesce(sum(p.amount), 0) as decimal(18, 2)) as amount
from {{ ref('stg_orders') }} as o
"""
FCT_DAILY_REVENUE = """select
    cast(coalesce(sum(p.amount), 0) as decimal(18, 2)) as revenue
from recognized_orders as o
"""
SCHEMA_YML = """      - name: order_count
        data_tests: [not_null]
      - name: revenue
        data_tests: [not_null]

  - name: fct_orders
"""
SPARK = 'recognized = orders.where(F.lower(F.col("status")).isin(*RECOGNIZED_STATUSES))'


def test_edits_apply_once_and_refuse_a_changed_file() -> None:
    assert "count(p.payment_id) as payment_count\nfrom" in demo.add_mart_column(FCT_ORDERS)
    assert f"as {demo.BAD_COLUMN}\nfrom" in demo.add_failing_finance_column(FCT_DAILY_REVENUE)
    schema = demo.add_failing_finance_test("models:\n  - name: fct_daily_revenue\n    columns:\n" + SCHEMA_YML
                                           + "    columns: []\n")
    assert f"      - name: {demo.BAD_COLUMN}\n" in schema and schema.count("[not_null]") == 3
    columns = yaml.safe_load(schema)["models"][0]["columns"]  # still valid YAML: the data test, not a parse error
    assert columns[-1] == {"name": demo.BAD_COLUMN, "description": columns[-1]["description"],
                           "data_tests": ["not_null"]}
    assert "F.trim(" in demo.change_spark_job(SPARK)
    with pytest.raises(StepFailed, match="cannot apply"):
        demo.add_mart_column("select 1")


@pytest.mark.parametrize("rel, fn, mark", [(demo.GOOD_MART, demo.add_mart_column, "payment_count"),
                                           (demo.SPARK_JOB, demo.change_spark_job, "F.trim("),
                                           (demo.FINANCE_MART, demo.add_failing_finance_column, demo.BAD_COLUMN),
                                           (demo.MART_SCHEMA, demo.add_failing_finance_test, demo.BAD_COLUMN)])
def test_edits_match_the_repository_files(rel: str, fn, mark: str) -> None:
    text = (REPO / rel).read_text()  # a BUILD dependency: the file is in the sandbox
    try:
        edited = fn(text)
    except StepFailed:
        # The demo's own commits in its clone (which its tests gate tests) carry the edit already.
        if mark in text:
            pytest.skip(f"{rel} already carries the demo's edit ({mark!r}): a demo clone after its own commit")
        raise
    assert edited != text and mark in edited
    if rel.endswith(".yml"):
        yaml.safe_load(edited)
    if fn is demo.change_spark_job:  # (c2)'s Spark bug applies on top of the good change, and only there
        assert 'F.trim(F.col("status"))' in demo.break_spark_job(edited)
        with pytest.raises(StepFailed, match="cannot apply"):
            demo.break_spark_job(text)


def test_broken_dag_is_a_python_file_with_an_import_typo() -> None:
    compile(demo.BROKEN_DAG_SOURCE, demo.BROKEN_DAG, "exec")  # syntactically valid: Pants can still build it
    assert "EmptyOperater" in demo.BROKEN_DAG_SOURCE


# ------------------------------------------------------------------------------------------------ cli driver ---
FAKE_RELEASE = r'''
import json, sys
args = sys.argv[1:]
print("progress: starting " + " ".join(args), file=sys.stderr, flush=True)
print("progress: done", file=sys.stderr, flush=True)
if "fail" in args:
    print(json.dumps({"ok": False, "exit_code": 1, "error": "blocked", "reasons": ["gate failed"]}))
    sys.exit(1)
print(json.dumps({"ok": True, "args": args, "big": "x" * 200000}))
'''


def fake_release(tmp_path: Path) -> Path:
    script = tmp_path / "release"
    script.write_text(f"#!{sys.executable}\n" + FAKE_RELEASE)
    script.chmod(0o755)
    return script


def test_driver_streams_stderr_and_parses_one_json_document(tmp_path: Path) -> None:
    lines: list[str] = []
    cli = ReleaseCli(tmp_path, {"PATH": "/usr/bin:/bin"}, release=fake_release(tmp_path), actor="a@x",
                     on_stderr=lines.append)
    doc = cli.must("status", "--env", "prod")
    assert doc["args"] == ["--as", "a@x", "status", "--env", "prod", "--json"]
    assert len(doc["big"]) == 200000  # a large stdout does not block while stderr is streamed
    assert lines == ["progress: starting --as a@x status --env prod --json", "progress: done"]
    failed = cli.call("deploy", "fail", actor="b@x")
    assert failed.exit_code == 1 and failed.doc and failed.doc["error"] == "blocked"
    assert failed.describe_failure() == "exit 1; blocked; gate failed"
    with pytest.raises(CommandFailed, match="gate failed"):
        cli.must("deploy", "fail")
    assert len(cli.calls) == 3


def test_parse_json_document_and_clock_constant() -> None:
    assert parse_json_document('{"ok": true}\n') == {"ok": True}
    assert parse_json_document("log line\n{}") is None
    assert parse_json_document("[1]") is None
    assert OUTSIDE_FREEZE.endswith("T12:00:00Z")  # noon UTC: outside prod's 01:00-03:00 freeze window


def test_rows_from_the_structured_switch_evidence() -> None:
    """The CLI's JSON carries each switch's evidence (``switches``): no parsing of human messages (issue 8)."""
    doc = {"messages": ["deployed airflow-dags@0123456789ab"],
           "switches": [{"kind": "dag_bundle", "changed": True, "evidence": {"path": "x"}},
                        {"kind": "warehouse_project", "changed": True,
                         "evidence": {"rows_recomputed": 0, "virtual_update": True}}]}
    assert demo.rows_recomputed(doc) == 0
    doc = {"switches": [{"kind": "warehouse_project", "changed": True, "evidence": {"rows_recomputed": 42}}]}
    assert demo.rows_recomputed(doc) == 42
    assert demo.rows_recomputed({"switches": [{"kind": "dag_bundle", "changed": True, "evidence": {}}]}) is None


def clone_with_environments(tmp_path: Path, extra_gate: str = "warehouse_audit") -> Path:
    from northstar_release.tests.helpers import ENVIRONMENTS_YAML

    clone = tmp_path / "clone"
    (clone / "pipelines").mkdir(parents=True)
    text = ENVIRONMENTS_YAML.read_text().replace("gates: [dag_integrity]", f"gates: [dag_integrity, {extra_gate}]")
    (clone / "pipelines" / "environments.yaml").write_text(text)
    return clone


def test_policy_clock_is_outside_the_freeze_window_whatever_gates_the_clone_names(tmp_path: Path,
                                                                                  monkeypatch) -> None:
    d, _, _ = make_demo(tmp_path)
    d.clone = clone_with_environments(tmp_path)  # names a gate this checkout may not register yet
    assert "prod 01:00-03:00 UTC" in d.check_clock()
    monkeypatch.setattr(demo.core, "OUTSIDE_FREEZE", "2026-01-15T01:30:00Z")  # where Demo reads it
    with pytest.raises(StepFailed, match="falls in a freeze window: prod 01:00-03:00"):
        d.check_clock()


def test_subprocess_env_is_hermetic(tmp_path: Path, monkeypatch) -> None:
    origin = tmp_path / "origin"
    (origin / "dist" / "entrypoints").mkdir(parents=True)
    (origin / "dist" / "entrypoints" / "warehouse.pex").write_text("")
    monkeypatch.setenv("NORTHSTAR_STATE_URL", "postgresql://shared/state")
    monkeypatch.setenv("NORTHSTAR_WAREHOUSE_DIR", "/shared/warehouse")
    monkeypatch.delenv("NORTHSTAR_ENTRYPOINT_WAREHOUSE", raising=False)
    d, _, _ = make_demo(tmp_path, origin=origin)
    d.workdir = tmp_path / "work"
    env = d.subprocess_env()
    assert "NORTHSTAR_STATE_URL" not in env and "NORTHSTAR_WAREHOUSE_DIR" not in env
    assert env["NORTHSTAR_STATE_DIR"] == str(tmp_path / "work" / "state")
    assert env["NORTHSTAR_NOW"] == OUTSIDE_FREEZE
    assert env["NORTHSTAR_ENTRYPOINT_WAREHOUSE"] == str(origin / "dist" / "entrypoints" / "warehouse.pex")
