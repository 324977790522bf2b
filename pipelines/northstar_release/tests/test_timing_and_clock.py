"""Timing breakdown in ``deploy/promote/rollback --json`` and the clock record in ``<action>.start`` audit entries.

Both are observable only through the real CLI (subprocess, real exit codes), so these tests drive it exactly like
``test_cli_e2e.py``: a temporary git repo, the real Airflow ``dagbag_check`` entry point where DAG integrity matters,
and the fast contract-only checker (optionally slowed down by a known amount) where only the accounting matters.
"""

from __future__ import annotations

import json
import shlex
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from northstar_release.runner import SubprocessComponentRunner
from northstar_release.state import open_store
from northstar_release.tests.helpers import (
    FAKE_CHECKER,
    GOOD_DAG,
    Cli,
    airflow_entrypoint,
    commit,
    fake_checker_cmd,
    make_repo,
    release_id,
)

TIMING_KEYS = {"total_s", "component_s", "engine_s"}
COMPONENT_SLEEP_S = 0.5


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path)


@pytest.fixture
def real(repo: Path, tmp_path: Path) -> Cli:
    """CLI with the real Airflow dagbag_check entry point."""
    return Cli(repo, tmp_path / "state", airflow_entrypoint())


@pytest.fixture
def fast(repo: Path, tmp_path: Path) -> Cli:
    """CLI with the fake (contract-only) dagbag_check."""
    return Cli(repo, tmp_path / "state", fake_checker_cmd(tmp_path))


@pytest.fixture
def slow(repo: Path, tmp_path: Path) -> Cli:
    """CLI whose dagbag_check honours the contract but sleeps a known time first: a lower bound for component_s."""
    script = tmp_path / "slow_dagbag_check.py"
    script.write_text(f"import time\ntime.sleep({COMPONENT_SLEEP_S})\n" + FAKE_CHECKER)
    return Cli(repo, tmp_path / "state", f"{shlex.quote(sys.executable)} {shlex.quote(str(script))}")


class CliWithoutClockOverride(Cli):
    """The shared helper always sets NORTHSTAR_NOW; this variant runs the CLI with the variable truly absent."""

    def env(self, **extra: str) -> dict[str, str]:
        env = super().env(**extra)
        env.pop("NORTHSTAR_NOW", None)
        return env


def assert_timing(doc: dict[str, Any]) -> dict[str, float]:
    timing = doc["timing"]
    assert set(timing) == TIMING_KEYS, timing
    assert all(isinstance(timing[k], int | float) and timing[k] >= 0 for k in TIMING_KEYS), timing
    assert abs(timing["total_s"] - (timing["engine_s"] + timing["component_s"])) < 0.01, timing
    assert timing["total_s"] == doc["elapsed_s"], (timing, doc["elapsed_s"])
    return timing


def start_entries(export: dict[str, Any], action: str, env: str) -> list[dict[str, Any]]:
    return [e for e in export["audit_entries"] if e["action"] == f"{action}.start" and e["env"] == env]


def parse_ts(value: str) -> datetime:
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    assert parsed.tzinfo is not None, f"timestamp without timezone: {value!r}"
    return parsed


# --------------------------------------------------------------------------------------------------------- timing ---
def test_runner_counts_seconds_in_components(tmp_path: Path) -> None:
    tiny = f"{shlex.quote(sys.executable)} -c " + shlex.quote(
        "import json,time; time.sleep(0.2); print(json.dumps({}))")
    runner = SubprocessComponentRunner(tmp_path, environ={"NORTHSTAR_ENTRYPOINT_TINY": tiny})
    assert runner.seconds_in_components == 0.0
    result = runner.run("tiny", [])
    assert result.exit_code == 0 and result.payload == {}
    first = runner.seconds_in_components
    assert first >= 0.2
    runner.run("tiny", [])
    assert runner.seconds_in_components - first >= 0.2  # cumulative, not overwritten per call


def test_concurrent_component_runs_count_wall_time_once(tmp_path: Path) -> None:
    """Parallel verification runs entry points side by side; their time must be the union, or engine_s goes negative."""
    tiny = f"{shlex.quote(sys.executable)} -c " + shlex.quote(
        "import json,time; time.sleep(0.6); print(json.dumps({}))")
    runner = SubprocessComponentRunner(tmp_path, environ={"NORTHSTAR_ENTRYPOINT_TINY": tiny})
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=2) as pool:
        list(pool.map(lambda _: runner.run("tiny", []), range(2)))
    wall = time.monotonic() - started
    assert 0.6 <= runner.seconds_in_components <= wall + 0.01
    assert runner.seconds_in_components < 1.2  # not the sum of the two runs


def test_deploy_json_reports_timing_with_real_airflow(real: Cli, repo: Path) -> None:
    real("build")
    rel = release_id(repo)
    doc = json.loads(real("deploy", rel, "--env", "dev", "--json").stdout)
    assert doc["status"] == "succeeded"
    # The dag_integrity gate ran the real DagBag check in a subprocess, so time was spent inside a component.
    outcomes = [g["outcome"] for g in doc["gate_results"] if g["gate"] == "dag_integrity"]
    assert outcomes and set(outcomes) == {"passed"}, doc["gate_results"]
    timing = assert_timing(doc)
    assert timing["component_s"] > 0
    assert timing["component_s"] <= timing["total_s"] + 0.01


def test_component_time_is_attributed_to_components(slow: Cli, repo: Path) -> None:
    """With a checker that sleeps a known time, component_s is at least that and engine_s excludes it."""
    slow("build")
    rel = release_id(repo)
    started = time.monotonic()
    doc = json.loads(slow("deploy", rel, "--env", "dev", "--json").stdout)
    wall = time.monotonic() - started
    assert doc["status"] == "succeeded"
    timing = assert_timing(doc)
    assert timing["component_s"] >= COMPONENT_SLEEP_S
    assert timing["engine_s"] <= timing["total_s"] - COMPONENT_SLEEP_S + 0.01
    assert timing["total_s"] <= wall


def test_promote_and_rollback_json_report_timing(fast: Cli, repo: Path) -> None:
    fast("build")
    rel1 = release_id(repo)
    assert_timing(json.loads(fast("deploy", rel1, "--env", "dev", "--json").stdout))
    (repo / "airflow" / "dags" / "sales_daily.py").write_text(GOOD_DAG.format(dag_id="sales_daily", version=2))
    commit(repo, "v2")
    fast("build")
    rel2 = release_id(repo)
    fast("deploy", rel2, "--env", "dev")
    promoted = json.loads(fast("promote", rel2, "--to", "staging", "--json").stdout)
    assert promoted["status"] == "succeeded"
    assert_timing(promoted)
    rolled = json.loads(fast("rollback", "--env", "dev", "--reason", "drill", "--json").stdout)
    assert rolled["status"] == "succeeded" and rolled["release_id"] == rel1
    assert_timing(rolled)


# ---------------------------------------------------------------------------------------------------------- clock ---
def test_start_entry_records_clock_override(fast: Cli, repo: Path) -> None:
    assert fast.now == "2025-03-04T12:00:00Z"  # what the helper exports as NORTHSTAR_NOW
    fast("build")
    rel = release_id(repo)
    before = datetime.now(UTC)
    fast("deploy", rel, "--env", "dev")
    after = datetime.now(UTC)

    export = json.loads(fast("audit", "export", rel, "--json").stdout)
    (entry,) = start_entries(export, "deploy", "dev")
    clock = entry["payload"]["clock"]
    assert set(clock) == {"policy_now", "wall_clock", "override"}
    assert clock["override"] == "2025-03-04T12:00:00Z"
    assert parse_ts(clock["policy_now"]) == datetime(2025, 3, 4, 12, 0, tzinfo=UTC)
    # The wall clock is the real time, not the override: that difference is what an auditor needs to see.
    assert before - timedelta(seconds=1) <= parse_ts(clock["wall_clock"]) <= after + timedelta(seconds=1)

    # The same record straight from the store (and the chain still verifies with the new payload field).
    store = open_store(None, fast.state_dir)
    try:
        stored = [e for e in store.audit_entries() if e.action == "deploy.start" and e.release_id == rel]
    finally:
        store.close()
    assert len(stored) == 1 and stored[0].payload["clock"] == clock
    fast.audit_ok()


def test_start_entry_records_override_that_bypasses_freeze(fast: Cli, repo: Path) -> None:
    fast("build")
    rel = release_id(repo)
    fast("deploy", rel, "--env", "dev")
    fast("promote", rel, "--to", "staging")
    fast("--as", "bob@northstar.test", "approve", rel, "--env", "prod")
    fast("--as", "carol@northstar.test", "promote", rel, "--to", "prod", NORTHSTAR_NOW="2025-03-04T03:00:00Z")
    export = json.loads(fast("audit", "export", rel, "--json").stdout)
    (entry,) = start_entries(export, "promote", "prod")
    assert entry["actor"] == "carol@northstar.test"
    assert entry["payload"]["clock"]["override"] == "2025-03-04T03:00:00Z"
    assert parse_ts(entry["payload"]["clock"]["policy_now"]) == datetime(2025, 3, 4, 3, 0, tzinfo=UTC)
    (staging,) = start_entries(export, "promote", "staging")
    assert staging["payload"]["clock"]["override"] == "2025-03-04T12:00:00Z"


def test_start_entry_override_is_null_without_northstar_now(repo: Path, tmp_path: Path) -> None:
    cli = CliWithoutClockOverride(repo, tmp_path / "state", fake_checker_cmd(tmp_path))
    assert "NORTHSTAR_NOW" not in cli.env()
    cli("build")
    rel = release_id(repo)
    before = datetime.now(UTC)
    cli("deploy", rel, "--env", "dev")
    after = datetime.now(UTC)

    export = json.loads(cli("audit", "export", rel, "--json").stdout)
    (entry,) = start_entries(export, "deploy", "dev")
    clock = entry["payload"]["clock"]
    assert "override" in clock and clock["override"] is None
    window = (before - timedelta(seconds=1), after + timedelta(seconds=1))
    assert window[0] <= parse_ts(clock["policy_now"]) <= window[1]
    assert window[0] <= parse_ts(clock["wall_clock"]) <= window[1]
    cli.audit_ok()
