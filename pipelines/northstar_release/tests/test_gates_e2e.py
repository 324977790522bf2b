"""Issue 11 through the real CLI: the write-audit-publish data-quality gate stops a silent 95 % row drop at dev.

Real components only: the ``warehouse`` entry point (SQLMesh over the repository's dbt project on DuckDB, with
``northstar_dq`` doing the diff), the real release CLI as a subprocess, a temporary git repository holding the
5-model pilot slice of ``dbt/``. The DAG bundle check is the contract-only fake of helpers.py (this test is not about DAGs).

The change: ``fct_orders`` (a mart with unique/not_null tests on its key and amount, but no test of its volume) gets
a filter that keeps one order in twenty. Every dbt test still passes; only the comparison with prod sees it.
"""

from __future__ import annotations

import json
import subprocess

import pytest

from northstar_release.tests.helpers import Cli, Result, commit, fake_checker_cmd, git, release_id
from northstar_release.tests.pilot_dbt import copy_pilot_dbt
from northstar_release.tests.test_warehouse_adapter import warehouse_entrypoint
from northstar_secrets.baseline import write_baseline

MART_SQL = "dbt/models/marts/fct_orders.sql"
GROUP_BY = "group by o.order_id, o.customer_id, o.order_date, o.status"
DROP_95 = "{% if not is_incremental() %}where o.order_id % 20 = 0{% endif %}\n" + GROUP_BY
ENVIRONMENTS = """\
environments:
  dev:
    order: 1
    promotion: automatic
    gates: [data_quality]
    backend: local
  prod:
    order: 2
    promotion: automatic
    gates: []
    backend: local
"""


class WarehouseCli(Cli):
    """The CLI with the real warehouse entry point and room for a full warehouse build per command."""

    def env(self, **extra: str) -> dict[str, str]:
        return super().env(NORTHSTAR_ENTRYPOINT_WAREHOUSE=warehouse_entrypoint(), NORTHSTAR_COMPONENT_TIMEOUT_S="1800",
                           **extra)

    def __call__(self, *args: str, expect: int | None = 0, **extra: str) -> Result:
        proc = subprocess.run(self.cmd(*args), cwd=self.repo, env=self.env(**extra), capture_output=True, text=True,
                              timeout=2400)
        assert expect is None or proc.returncode == expect, (
            f"{' '.join(args)}: exit {proc.returncode}, expected {expect}\nstdout:\n{proc.stdout[-4000:]}\n"
            f"stderr:\n{proc.stderr[-4000:]}")
        return Result(proc.returncode, proc.stdout, proc.stderr)


@pytest.fixture(scope="module")
def cli(tmp_path_factory: pytest.TempPathFactory) -> WarehouseCli:
    root = tmp_path_factory.mktemp("gates-e2e")
    repo = root / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    git(repo, "config", "user.email", "alice@northstar.test")
    git(repo, "config", "user.name", "alice")
    copy_pilot_dbt(repo / "dbt", "northstar_dbt", "northstar_dq")  # fct_orders is in the 5-model pilot slice
    # The real repository baselines the one reviewed false positive of dbt/ (config.py's docstring shows the shape of
    # a PostgreSQL state URL); `build` scans every artifact against the repository's baseline, so this copy has one.
    write_baseline([repo / "dbt" / "config.py"], repo, repo / ".secrets.baseline")
    (repo / "pipelines").mkdir()
    (repo / "pipelines" / "environments.yaml").write_text(ENVIRONMENTS)
    (repo / ".gitignore").write_text(".release-state/\n")
    commit(repo, "v1")
    return WarehouseCli(repo, root / "state", fake_checker_cmd(root))


def run(cli: Cli, *args: str, expect: int | None = 0, **extra: str) -> dict:
    res = cli(*args, "--json", expect=expect, **extra)
    doc: dict = json.loads(res.stdout)
    return doc


def dq_result(doc: dict) -> dict:
    (result,) = (g for g in doc["gate_results"] if g["gate"] == "data_quality")
    return result


def test_first_release_passes_then_95_percent_row_drop_is_blocked_at_dev_then_acknowledged(cli: WarehouseCli) -> None:
    repo = cli.repo
    run(cli, "build")
    v1 = release_id(repo)
    # First release: prod has no tables, so there is nothing to compare with; the gate says so and passes.
    first = run(cli, "deploy", v1, "--env", "dev")
    gate = dq_result(first)
    assert gate["outcome"] == "passed" and "first release" in gate["summary"], gate["summary"]
    assert gate["evidence"]["baseline_exists"] is False
    run(cli, "deploy", v1, "--env", "prod")  # the baseline: a virtual update of the snapshots dev built

    # The bad change: every dbt test of fct_orders still passes.
    path = repo / MART_SQL
    path.write_text(path.read_text().replace(GROUP_BY, DROP_95, 1))
    commit(repo, "fct_orders: keep one order in twenty")
    run(cli, "build")
    v2 = release_id(repo)
    blocked = run(cli, "deploy", v2, "--env", "dev", expect=1)
    assert blocked["status"] == "blocked"
    gate = dq_result(blocked)
    assert gate["outcome"] == "failed"
    assert "fct_orders: row_count_delta: row count 30 -> 1" in gate["summary"], gate["summary"]
    (model,) = (m for m in gate["evidence"]["models"] if m["model"] == "fct_orders")
    stats = model["verdict"]["stats"]
    assert (stats["prod_rows"], stats["candidate_rows"], stats["rows_removed"]) == (30, 1, 29)
    assert model["prod_relation"].endswith(".fct_orders") and "__wap_dev" in model["candidate_relation"]
    assert stats["sample"] and all(s["status"] == "removed" for s in stats["sample"])
    live = (cli.state_dir / "envs" / "dev" / "warehouse" / "LIVE").read_text().strip()
    assert live == run(cli, "show", v1)["release"]["artifacts"][0]["sha256"]  # dev still serves v1

    # The same change, acknowledged as intended (a new commit: acknowledgements are given at the first build).
    (repo / "CHANGELOG.md").write_text("fct_orders keeps one order in twenty on purpose\n")
    commit(repo, "acknowledge the fct_orders volume change")
    run(cli, "build", "--ack-breaking", "fct_orders")
    v3 = release_id(repo)
    passed = run(cli, "deploy", v3, "--env", "dev")
    assert passed["status"] == "succeeded"
    gate = dq_result(passed)
    assert gate["outcome"] == "passed" and "acknowledged" in gate["summary"], gate["summary"]
    assert gate["evidence"]["acknowledged"] == ["fct_orders"]

    export = run(cli, "audit", "export", v3)
    text = json.dumps(export)
    assert "ack:fct_orders" in text
    assert "row count 30 -> 1" in text and "acknowledged" in text
    cli("audit", "verify")
