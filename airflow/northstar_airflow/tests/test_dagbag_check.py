"""The release engine's DAG gate, exercised exactly as it is called: as a subprocess, parsing its JSON."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from northstar_airflow import dagbag_check
from northstar_airflow.tests.conftest import DAGS_DIR, expected_dag_ids
from northstar_contracts.airflow import DagbagReport
from northstar_contracts.base import parse_result

GOOD_DAG = """
from datetime import datetime
from airflow import DAG
from airflow.operators.empty import EmptyOperator

with DAG("{dag_id}", start_date=datetime(2024, 1, 1), schedule=None, catchup=False, tags={tags!r},
         default_args={{"owner": "{owner}", "retries": {retries}}}):
    EmptyOperator(task_id="noop")
"""


def _write_dag(
    folder: Path,
    name: str,
    dag_id: str,
    *,
    owner: str = "team-x",
    retries: int = 1,
    tags: tuple[str, ...] = ("t",),
) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(GOOD_DAG.format(dag_id=dag_id, owner=owner, retries=retries, tags=list(tags)))
    return path


def run_check(*args: str, airflow_home: Path | None = None) -> tuple[int, dict[str, Any] | None, str]:
    """Run the entry point the way the release engine does; stdout must be pure JSON.

    The module is imported above (not only named) so build tools see the dependency and ship it with the test.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    if airflow_home is not None:
        env["AIRFLOW_HOME"] = str(airflow_home)
    package_root = Path(__file__).resolve().parents[2]
    # sys.path carries the other source roots the entry point imports (northstar_contracts under pipelines/).
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(package_root), *sys.path, env.get("PYTHONPATH")]))
    proc = subprocess.run(
        [sys.executable, "-m", dagbag_check.__name__, *args],
        check=False,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    report = json.loads(proc.stdout) if proc.stdout.strip() else None
    if report is not None:  # the typed contract: unknown, missing or mistyped fields raise ContractError
        parse_result(DagbagReport, report)
    return proc.returncode, report, proc.stderr


def test_real_dags_folder_is_clean(tmp_path: Path) -> None:
    code, report, stderr = run_check(str(DAGS_DIR), airflow_home=tmp_path / "home")
    assert code == 0, stderr
    assert report is not None
    assert {k: report[k] for k in ("dag_ids", "import_errors", "policy_violations")} == {
        "dag_ids": expected_dag_ids(), "import_errors": {}, "policy_violations": []}
    # Every shipped file is counted and timed in its own process (38 files here, one DAG each).
    assert len(report["parse_seconds"]) == len(list(DAGS_DIR.rglob("*.py"))) == len(expected_dag_ids())
    assert report["parse_budget_seconds"] == 1.0 and report["exempted"] == []


def test_broken_dag_is_an_import_error(tmp_path: Path) -> None:
    dags = tmp_path / "dags"
    _write_dag(dags, "fine.py", "fine")
    (dags / "broken_dag.py").write_text("from airflow import DAG\nraise RuntimeError('boom at import')\n")
    code, report, _ = run_check(str(dags))
    assert code == 1
    assert report is not None
    assert list(report["import_errors"]) == ["dags/broken_dag.py"]
    assert "boom at import" in report["import_errors"]["dags/broken_dag.py"]
    assert report["dag_ids"] == ["fine"]


def test_zero_retries_is_a_violation(tmp_path: Path) -> None:
    dags = tmp_path / "dags"
    _write_dag(dags, "no_retry.py", "no_retry", retries=0)
    code, report, _ = run_check(str(dags))
    assert code == 1
    assert report is not None and report["import_errors"] == {}
    assert report["policy_violations"] == [
        {
            "dag_id": "no_retry",
            "file": "dags/no_retry.py",
            "rule": "retries",
            "message": "retries must be >= 1 (tasks: noop)",
        }
    ]


def test_default_owner_and_missing_tags_are_violations(tmp_path: Path) -> None:
    dags = tmp_path / "dags"
    _write_dag(dags, "anon.py", "anon", owner="airflow", tags=())
    code, report, _ = run_check(str(dags))
    assert code == 1
    assert report is not None
    assert sorted(v["rule"] for v in report["policy_violations"]) == ["owner", "tags"]


def test_pass_through_folder_needs_a_recorded_exemption(tmp_path: Path) -> None:
    """A legacy DAG breaking the new-DAG policies blocks unless an unexpired exemption names it."""
    legacy = tmp_path / "legacy_dags"
    _write_dag(legacy, "old.py", "old_style", owner="airflow", retries=0, tags=())
    code, report, _ = run_check(str(DAGS_DIR), "--pass-through", str(legacy))
    assert code == 1 and report is not None
    assert sorted(v["rule"] for v in report["policy_violations"]) == ["owner", "retries", "tags"]
    assert {v["file"] for v in report["policy_violations"]} == {"legacy_dags/old.py"}

    exemptions = tmp_path / "dag_exemptions.yaml"
    exemptions.write_text("exemptions:\n  - {file: old.py, owner: team-old, expires: 2099-01-01, reason: legacy}\n")
    code, report, stderr = run_check(str(DAGS_DIR), "--pass-through", str(legacy), "--exemptions", str(exemptions))
    assert code == 0, stderr
    assert report is not None
    assert report["dag_ids"] == sorted([*expected_dag_ids(), "old_style"])
    assert report["policy_violations"] == []
    assert sorted(e["finding"]["rule"] for e in report["exempted"]) == ["owner", "retries", "tags"]
    assert {(e["owner"], e["expires"]) for e in report["exempted"]} == {("team-old", "2099-01-01")}


def test_broken_pass_through_dag_still_fails(tmp_path: Path) -> None:
    legacy = tmp_path / "legacy_dags"
    legacy.mkdir()
    (legacy / "legacy_broken_dag.py").write_text("from airflow import DAG\nimport no_such_module_anywhere\n")
    code, report, _ = run_check(str(DAGS_DIR), "--pass-through", str(legacy))
    assert code == 1
    assert report is not None and list(report["import_errors"]) == ["legacy_dags/legacy_broken_dag.py"]


@pytest.mark.parametrize("args", [["/definitely/not/here"], [], ["--pass-through"]])
def test_bad_usage_exits_2_with_a_usage_error_record(args: list[str]) -> None:
    """The shared entry-point contract (northstar_contracts.harness): usage errors are JSON too, exit 2."""
    code, report, stderr = run_check(*args)
    assert code == 2
    assert report is not None and report["ok"] is False and report["kind"] == "usage" and report["usage"] is True
    assert report["error"] and report["command"] == "dagbag_check"
    assert stderr


def test_never_writes_into_home_airflow(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    code, _, _ = run_check(str(DAGS_DIR))
    assert code == 0
    assert not (tmp_path / "airflow").exists()
