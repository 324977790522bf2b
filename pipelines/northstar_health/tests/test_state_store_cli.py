"""The CLI over a real engine state store (SqliteStateStore, written through its transaction API like the engine).

The store stamps audit entries with the wall clock, so this test checks counts and rates and bounds the lead time by
the clock around the writes (exact times are covered by the scripted chain in test_dora.py).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from northstar_health.tests.store_fixture import COMMITTED, cli, two_deploys_and_a_rollback


def test_deployments_command_reads_the_engine_store(tmp_path: Path) -> None:
    before = datetime.now(UTC)
    two_deploys_and_a_rollback(tmp_path)
    after = datetime.now(UTC)

    proc = cli("deployments", "--state-dir", str(tmp_path), "--since", "3650d", "--json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    prod = data["deployments"]["prod"]
    assert (prod["deployments"], prod["changes"], prod["failed_changes"], prod["recovered"]) == (2, 2, 1, 1)
    assert prod["change_failure_rate"] == 0.5
    assert [d["release_id"] for d in prod["failed_deployments"]] == ["r2"]
    assert prod["gate_failure_rates"]["verify"] == {"evaluated": 3, "failed": 0, "rate": 0.0}
    # Lead time runs from the release's commit time (Release.created_at), not from the build entry.
    assert (before - COMMITTED).total_seconds() <= prod["lead_time_median_s"] <= (after - COMMITTED).total_seconds()
    assert data["stage_durations"]["prod"]["deploy:airflow_dags"]["count"] == 3
    text = cli("deployments", "--state-dir", str(tmp_path), "--since", "3650d")
    assert text.returncode == 0 and "prod: 2 deployments" in text.stdout and "(1/2)" in text.stdout
