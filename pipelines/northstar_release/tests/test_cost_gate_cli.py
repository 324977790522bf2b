"""Infra diff and cost gate through the real CLI with the real infra_check entry point (Pulumi program under mocks).

A release is deployed to dev (its verification records dev's stack state); then the EMR capacity of the dev stack is
multiplied by 50. ``plan`` and the deploy gate both show the diff and the estimate and block it: the increase is over
the $15K budget. A smaller growth over the 25 % threshold is blocked until the release carries ack:infra-cost, and
the acknowledgement and the config digest are in ``audit export``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from northstar_release.tests.helpers import Cli, commit, fake_checker_cmd
from northstar_release.tests.issue11_helpers import INFRA_ENTRYPOINT_ENV, infra_entrypoint, issue11_repo, scale_sizing


class InfraCli(Cli):
    def env(self, **extra: str) -> dict[str, str]:
        return super().env(**{INFRA_ENTRYPOINT_ENV: infra_entrypoint(), **extra})


@pytest.fixture
def cli(tmp_path: Path) -> InfraCli:
    return InfraCli(issue11_repo(tmp_path), tmp_path / "state", fake_checker_cmd(tmp_path))


def _deploy_first(cli: InfraCli) -> str:
    rel = json.loads(cli("build", "--json").stdout)["release"]["id"]
    out = cli("deploy", rel, "--env", "dev")
    assert "gate:infra_cost" in out.stderr and "no deployed baseline" in out.stderr
    assert (cli.state_dir / "envs" / "dev" / "infra" / "state.dev.json").is_file()
    return rel


def test_emr_capacity_x50_is_blocked_at_plan_and_at_dev_with_the_estimate(cli: InfraCli) -> None:
    first = _deploy_first(cli)
    scale_sizing(cli.repo, "dev", emrMaxVcpu=50, emrMaxMemoryGb=50)
    commit(cli.repo, "dev: EMR capacity x50")

    plan = json.loads(cli("plan", "--since", "HEAD~1", "--json", expect=1).stdout)
    text = "\n".join(plan["reasons"])
    assert "exceeds the budget of $15,000.00" in plan["error"] + text
    # ~2: the EMR application, and the SSM artifact-version map (the deployed state holds real digests)
    assert "stack dev: +0 ~2 -0 resources (changed: northstar-spark-dev(maximumCapacity))" in text
    assert "EMR Serverless 800 vCPU ceiling x 300 busy h $12,629.76" in text  # the estimate, line by line

    rel = json.loads(cli("build", "--json").stdout)["release"]["id"]
    blocked = cli("deploy", rel, "--env", "dev", "--json", expect=1)
    doc = json.loads(blocked.stdout)
    reason = next(r for r in doc["reasons"] if r.startswith("gate:infra_cost failed"))
    assert "incremental monthly cost $17,8" in reason and "exceeds the budget" in reason
    assert "EMR Serverless 800 vCPU ceiling" in reason
    status = json.loads(cli("status", "--env", "dev", "--json").stdout)
    assert status["environments"]["dev"]["live_release"] == first  # dev still runs the first release


def test_growth_over_threshold_needs_an_acknowledgement_recorded_in_the_audit(cli: InfraCli) -> None:
    _deploy_first(cli)
    scale_sizing(cli.repo, "dev", emrMaxVcpu=2, emrMaxMemoryGb=2)  # +$363/month, about +40 % of dev
    commit(cli.repo, "dev: EMR capacity x2")
    plan = json.loads(cli("plan", "--since", "HEAD~1", "--json", expect=None).stdout)
    assert plan.get("exit_code") != 1  # under budget: plan does not block (it needs Pants for the change map)
    rel = json.loads(cli("build", "--json").stdout)["release"]["id"]
    doc = json.loads(cli("deploy", rel, "--env", "dev", "--json", expect=1).stdout)
    assert any("over the 25% threshold without acknowledgement" in r for r in doc["reasons"])

    (cli.repo / "infra" / "README.md").write_text("dev EMR doubled for the backfill (acknowledged)\n")
    commit(cli.repo, "acknowledge the dev EMR increase")
    acked = json.loads(cli("build", "--tag", "ack:infra-cost", "--json").stdout)["release"]["id"]
    cli("deploy", acked, "--env", "dev")
    export = json.loads(cli("audit", "export", acked, "--format", "json").stdout)
    text = json.dumps(export)
    assert "ack:infra-cost" in text and '"acknowledged": true' in text
    assert '"config": "pipelines/config/dev.yaml"' in text and '"sha256": "' in text  # the config digest
