"""Per-environment config: the shipped files validate; a bad file is refused at build (exit 2) naming file, key and
rule; a deployment records the sha256 of the config it was deployed with. Plus the cost decision's rules."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from northstar_contracts.infra import CostEstimate, InfraPreviewReport
from northstar_release import envconfig
from northstar_release.errors import ConfigError
from northstar_release.gates.cost import decide
from northstar_release.tests.helpers import PIPELINES, Cli, commit, fake_checker_cmd
from northstar_release.tests.issue11_helpers import issue11_repo


@pytest.mark.parametrize("env", ["dev", "staging", "prod"])
def test_shipped_configs_are_valid(env: str) -> None:
    raw = (PIPELINES / "config" / f"{env}.yaml").read_bytes()
    config = envconfig.parse(raw, f"pipelines/config/{env}.yaml", env)
    assert config.infra.stack == env and config.infra.monthly_budget_usd == 15000
    assert all(c.ref.split(":")[0] in envconfig.BACKENDS[config.airflow.backend]
               for c in config.airflow.connections.values())


@pytest.mark.parametrize(("edit", "key", "rule"), [
    (("env:AIRFLOW_CONN_WAREHOUSE", "snowflake://loader@acct/db"), "airflow.connections.warehouse.ref",
     "must be a secret reference"),
    (("env:AIRFLOW_CONN_WAREHOUSE", "aws-sm:northstar/dev/x"), "airflow.connections.warehouse.ref",
     "the local secrets backend reads only env: / file: references"),
    (("spark.executor.memory", "spark.hadoop.fs.s3a.secret.key"), "spark.conf.spark.hadoop.fs.s3a.secret.key",
     "credentials never go into Spark conf"),
    (("target: duckdb", "target: bigquery"), "warehouse.target", "Input should be 'duckdb' or 'snowflake'"),
    (("environment: dev", "environment: prod"), "environment", "must be 'dev'"),
    (("  threads: 2", "  threads: 2\n  retries: 3"), "warehouse.retries", "Extra inputs are not permitted"),
])
def test_bad_config_names_file_key_and_rule(edit: tuple[str, str], key: str, rule: str) -> None:
    raw = (PIPELINES / "config" / "dev.yaml").read_text().replace(*edit)
    with pytest.raises(ConfigError) as caught:
        envconfig.parse(raw.encode(), "pipelines/config/dev.yaml", "dev")
    assert any(r.startswith(f"pipelines/config/dev.yaml: {key}") and rule in r for r in caught.value.reasons), \
        caught.value.reasons


def test_build_refuses_a_bad_config_with_exit_2_and_deploy_records_the_digest(tmp_path: Path) -> None:
    repo = issue11_repo(tmp_path, infra=False)
    cli = Cli(repo, tmp_path / "state", fake_checker_cmd(tmp_path))
    good = json.loads(cli("build", "--json").stdout)["release"]["id"]
    cli("deploy", good, "--env", "dev")
    export = json.loads(cli("audit", "export", good, "--format", "json").stdout)
    digest = hashlib.sha256((repo / "pipelines" / "config" / "dev.yaml").read_bytes()).hexdigest()
    assert f'"sha256": "{digest}"' in json.dumps(export)

    path = repo / "pipelines" / "config" / "staging.yaml"
    path.write_text(path.read_text().replace("spark.executor.memory", "executor.memory"))
    commit(repo, "typo in staging spark conf")
    out = cli("build", expect=2)
    assert "pipelines/config/staging.yaml: spark.conf.executor.memory: Spark conf keys start with 'spark.'" in out.stderr
    doc = json.loads(cli("build", "--json", expect=2).stdout)
    assert doc["exit_code"] == 2 and any("staging.yaml" in r for r in doc["reasons"])
    assert json.loads(cli("status", "--json").stdout)  # state intact, nothing built


def _report(stack: str, new: float, old: float | None, ok: bool = True) -> InfraPreviewReport:
    def est(v: float) -> CostEstimate:
        return CostEstimate(stack=stack, monthly_usd=v, price_table="t", price_table_sha256="0" * 64, lines=[])

    return InfraPreviewReport(ok=ok, stack=stack, baseline="state:x" if old is not None else "none", adds=[],
                              changes=[], removes=[], cost=est(new) if ok else None,
                              baseline_cost=est(old) if old is not None else None, error=None if ok else "refused")


def test_cost_decision_budget_threshold_ack_and_missing_baseline() -> None:
    over = decide({"prod": _report("prod", 40000, 30000), "dev": _report("dev", 16000, 1000)}, 15000, 25, ())
    assert over.blocked and "incremental monthly cost $25,000.00" in over.blocked[0]
    assert over.evidence["incremental_monthly_usd"] == 25000
    acked = decide({"dev": _report("dev", 16000, 1000)}, 15000, 25, ("infra-cost",))
    assert acked.blocked == [] and acked.needs_ack == []  # under budget, growth acknowledged
    grow = decide({"dev": _report("dev", 1400, 1000)}, 15000, 25, ())
    assert grow.blocked == [] and "+40.0%" in grow.needs_ack[0]
    fresh = decide({"prod": _report("prod", 90000, None)}, 15000, 25, ())
    assert fresh.refusals == [] and "no deployed baseline" in fresh.lines[0]
    refused = decide({"dev": _report("dev", 0, None, ok=False)}, 15000, 25, ())
    assert refused.blocked == ["stack dev: the program refuses the release's config: refused"]
