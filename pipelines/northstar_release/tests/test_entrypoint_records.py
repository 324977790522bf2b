"""The engine reads entry points through their typed records (``northstar_contracts``), never through loose dicts.

A payload that does not match its record -- a renamed, missing or mistyped field -- is refused as a ComponentError
(exit 2) naming the entry point, the subcommand and the field; an ``ErrorRecord`` the entry point printed instead of
its result reaches the adapter as such and becomes a failed gate with the entry point's own message.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from northstar_contracts.airflow import DagbagReport
from northstar_contracts.base import ErrorKind, ErrorRecord
from northstar_contracts.warehouse import WarehouseTablesReport
from northstar_release.adapters.base import ComponentResult, EnvContext
from northstar_release.adapters.dag_bundle import DagBundleAdapter
from northstar_release.errors import ComponentError
from northstar_release.runner import SubprocessComponentRunner, call, typed
from northstar_release.stages import VerifyMode
from northstar_release.tests.adapter_calls import verify
from northstar_release.tests.helpers import Cli, make_repo, release_id

TABLES = {"command": "tables", "ok": True, "environment": "prod", "plan_id": "p1", "tables": {
    "fct_orders": {"relation": "marts.fct_orders", "rows": 40, "checksum": "abc", "fingerprint": "1"}}}


def test_a_matching_payload_becomes_its_record() -> None:
    reported = typed(ComponentResult(0, TABLES), "warehouse", WarehouseTablesReport, subcommand="tables")
    assert isinstance(reported.record, WarehouseTablesReport) and reported.error is None
    assert reported.result is not None and reported.result.tables["fct_orders"].rows == 40


@pytest.mark.parametrize(("table", "field", "problem"), [
    ({"relation": "r", "row_count": 40, "checksum": "abc", "fingerprint": "1"}, "tables.fct_orders.row_count",
     "unknown field"),
    ({"relation": "r", "rows": "40", "checksum": "abc", "fingerprint": "1"}, "tables.fct_orders.rows",
     "Input should be a valid integer"),
    ({"relation": "r", "rows": 40, "fingerprint": "1"}, "tables.fct_orders.checksum", "Field required"),
], ids=["renamed", "mistyped", "missing"])
def test_a_mismatching_payload_is_an_exit_2_error_naming_entry_point_subcommand_and_field(
        table: dict[str, Any], field: str, problem: str) -> None:
    payload = {**TABLES, "tables": {"fct_orders": table}}
    with pytest.raises(ComponentError) as info:
        typed(ComponentResult(0, payload, "stderr words"), "warehouse", WarehouseTablesReport, subcommand="tables")
    err = info.value
    assert err.exit_code == 2
    assert "'warehouse tables'" in err.message and "WarehouseTablesReport" in err.message
    assert f"{field}: {problem}" in err.message, err.message
    assert any("./pants package dbt:warehouse" in r for r in err.reasons), err.reasons
    assert any("stderr words" in r for r in err.reasons)


def test_an_error_record_reaches_the_caller_as_such() -> None:
    printed = ErrorRecord(kind=ErrorKind.REFUSED, error="SQLMesh environment 'qa' does not exist", command="tables")
    reported = typed(ComponentResult(1, printed.to_dict()), "warehouse", WarehouseTablesReport, subcommand="tables")
    assert reported.result is None and reported.error == "SQLMesh environment 'qa' does not exist"


class ScriptedRunner:
    """A runner that answers every call with one fixed payload (what a mis-built entry point would print)."""

    def __init__(self, code: int, payload: dict[str, Any]) -> None:
        self.code, self.payload = code, payload

    def run(self, entry_point: str, args: list[str], env: Mapping[str, str] | None = None) -> ComponentResult:
        return ComponentResult(self.code, self.payload, "")


def live_bundle_env(tmp_path: Path, runner: ScriptedRunner) -> EnvContext:
    env_dir = tmp_path / "envs" / "dev"
    (env_dir / "dag_bundles" / ("a" * 64) / "dags").mkdir(parents=True)
    (env_dir / "dags").symlink_to(Path("dag_bundles") / ("a" * 64))
    return EnvContext(env="dev", env_dir=env_dir, artifact_path=lambda a: tmp_path / a.sha256, runner=runner)


def test_the_dag_bundle_adapter_refuses_a_renamed_field(tmp_path: Path) -> None:
    renamed = {"dag_ids": ["d"], "import_errors": {}, "violations": []}  # policy_violations renamed
    env = live_bundle_env(tmp_path, ScriptedRunner(0, renamed))
    with pytest.raises(ComponentError) as info:
        verify(DagBundleAdapter(), env, mode=VerifyMode.FULL)
    assert "'dagbag_check'" in info.value.message and "DagbagReport" in info.value.message
    assert "violations: unknown field" in info.value.message
    assert "policy_violations: Field required" in info.value.message


def test_the_dag_bundle_adapter_fails_the_gate_with_the_error_record(tmp_path: Path) -> None:
    printed = ErrorRecord(kind=ErrorKind.INTERNAL, error="RuntimeError: airflow db not initialised")
    env = live_bundle_env(tmp_path, ScriptedRunner(1, printed.to_dict()))
    result = verify(DagBundleAdapter(), env, mode=VerifyMode.FULL)
    assert result.outcome.value == "failed"
    assert result.summary == "dagbag_check failed: RuntimeError: airflow db not initialised"
    assert result.evidence["kind"] == "internal"


def test_call_runs_the_entry_point_and_parses_its_record(tmp_path: Path) -> None:
    report = DagbagReport(dag_ids=["a"], import_errors={}, policy_violations=[])
    script = tmp_path / "ep.py"
    script.write_text(f"import sys; print({report.to_json()!r}); sys.exit(0)\n")
    runner = SubprocessComponentRunner(tmp_path, environ={"NORTHSTAR_ENTRYPOINT_DAGBAG_CHECK":
                                                          f"{sys.executable} {script}"})
    reported = call(runner, "dagbag_check", [], DagbagReport)
    assert reported.record == report and reported.exit_code == 0


def test_the_cli_refuses_a_mismatching_entry_point_with_exit_2(tmp_path: Path) -> None:
    """End to end: ``./release deploy`` with a dagbag_check that prints a renamed field exits 2, env unchanged."""
    repo = make_repo(tmp_path)
    script = tmp_path / "renamed_dagbag_check.py"
    script.write_text("import json\nprint(json.dumps({'dag_ids': [], 'import_errors': {}, 'violations': []}))\n")
    cli = Cli(repo, tmp_path / "state", f"{sys.executable} {script}")
    cli("build")
    res = cli("deploy", release_id(repo), "--env", "dev", "--json", expect=2)
    assert "'dagbag_check'" in res.stderr + res.stdout and "violations: unknown field" in res.stderr + res.stdout
    assert cli.live_target("dev") is None
    status = json.loads(cli("status", "--env", "dev", "--json").stdout)
    assert status["environments"]["dev"]["live_release"] is None

