"""``infra_check preview`` and ``check --state-out``: resource diff against the recorded stack state, monthly cost."""

from __future__ import annotations

import io
import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import yaml

from northstar_infra import check, cost
from northstar_infra.tests.conftest import INFRA_DIR, STACKS

PRICES = next((INFRA_DIR / "pricing").glob("*.yaml"))


def run(*argv: str) -> tuple[int, dict[str, Any]]:
    out = io.StringIO()
    code = check.main(list(argv), stdout=out)
    lines = out.getvalue().strip().splitlines()
    assert len(lines) == 1, out.getvalue()
    return code, json.loads(lines[0])


def variant(tmp_path: Path, stack: str, name: str, **sizing: Any) -> Path:
    data = yaml.safe_load((INFRA_DIR / f"Pulumi.{stack}.yaml").read_text())
    data["config"]["northstar:sizing"].update(sizing)
    folder = tmp_path / name
    folder.mkdir()
    path = folder / f"Pulumi.{stack}.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


@pytest.mark.parametrize("stack", STACKS)
def test_state_out_then_preview_of_the_same_config_is_empty(stack: str, tmp_path: Path) -> None:
    state = tmp_path / f"state.{stack}.json"
    config = str(INFRA_DIR / f"Pulumi.{stack}.yaml")
    code, _ = run("--stack", stack, "--config", config, "--state-out", str(state))
    assert code == 0 and json.loads(state.read_text())["resources"]
    code, report = run("preview", "--stack", stack, "--config", config, "--prices", str(PRICES),
                       "--baseline-state", str(state))
    assert code == 0 and report["ok"] is True
    assert (report["adds"], report["changes"], report["removes"]) == ([], [], [])
    assert report["cost"]["monthly_usd"] == report["baseline_cost"]["monthly_usd"] > 0
    assert report["cost"]["price_table"] == yaml.safe_load(PRICES.read_text())["version"]
    items = " ".join(line["item"] for line in report["cost"]["lines"])
    for part in ("EMR Serverless", "MWAA", "S3 storage", "KMS key", "Secrets Manager", "data transfer out"):
        assert part in items


def test_emr_capacity_x50_shows_the_change_and_its_cost(tmp_path: Path) -> None:
    state = tmp_path / "state.dev.json"
    assert run("--stack", "dev", "--config", str(INFRA_DIR / "Pulumi.dev.yaml"), "--state-out", str(state))[0] == 0
    big = variant(tmp_path, "dev", "x50", emrMaxVcpu=16 * 50, emrMaxMemoryGb=64 * 50)
    code, report = run("preview", "--stack", "dev", "--config", str(big), "--prices", str(PRICES),
                       "--baseline-state", str(state))
    assert code == 0
    assert [(c["name"], c["keys"]) for c in report["changes"]] == [("northstar-spark-dev", ["maximumCapacity"])]
    assert report["adds"] == [] and report["removes"] == []
    delta = report["cost"]["monthly_usd"] - report["baseline_cost"]["monthly_usd"]
    # 784 more vCPU and 3136 more GB busy 300 h/month at the table's EMR Serverless prices
    assert delta == pytest.approx(784 * 300 * 0.052624 + 3136 * 300 * 0.0057785, abs=0.05)


def test_a_new_msk_cluster_is_an_add_and_a_baseline_config_works_without_state(tmp_path: Path) -> None:
    data = yaml.safe_load((INFRA_DIR / "Pulumi.dev.yaml").read_text())
    data["config"]["northstar:sizing"].update(kafkaMode="msk", kafkaBrokers=2, kafkaInstanceType="kafka.m5.large",
                                              kafkaVolumeGb=100)
    path = tmp_path / "Pulumi.dev.yaml"
    path.write_text(yaml.safe_dump(data))
    code, report = run("preview", "--stack", "dev", "--config", str(path), "--prices", str(PRICES),
                       "--baseline-config", str(INFRA_DIR / "Pulumi.dev.yaml"))
    assert code == 0 and report["baseline"].startswith("config:")
    assert [a["type"] for a in report["adds"]] == ["aws:msk/cluster:Cluster"]
    assert any(c["type"] == "aws:ssm/parameter:Parameter" for c in report["changes"])  # bootstrap servers now MSK's


def test_a_config_the_program_refuses_is_exit_1_and_a_bad_usage_key_is_exit_2(tmp_path: Path) -> None:
    bad = variant(tmp_path, "prod", "x50", emrMaxVcpu=400 * 50)
    code, report = run("preview", "--stack", "prod", "--config", str(bad), "--prices", str(PRICES))
    assert code == 1 and report["ok"] is False and "emrMaxVcpu" in report["error"]
    data = yaml.safe_load((INFRA_DIR / "Pulumi.dev.yaml").read_text())
    data["config"]["northstar:costUsage"]["emrBusyHours"] = 5
    path = tmp_path / "Pulumi.dev.yaml"
    path.write_text(yaml.safe_dump(data))
    code, report = run("preview", "--stack", "dev", "--config", str(path), "--prices", str(PRICES))
    assert code == 2 and "emrBusyHours" in report["error"]


def test_emr_on_ec2_eks_nodes_and_instances_are_priced_per_instance_hour() -> None:
    prices = cost.load_prices(PRICES)
    emr = SimpleNamespace(type=cost.EMR_CLUSTER, name="batch", props={
        "masterInstanceGroup": {"instanceType": "m5.xlarge", "instanceCount": 1},
        "coreInstanceGroup": {"instanceType": "r5.2xlarge", "instanceCount": 4}})
    nodes = SimpleNamespace(type=cost.EKS_NODE_GROUP, name="spark-nodes",
                            props={"instanceTypes": ["m5.2xlarge"], "scalingConfig": {"desiredSize": 3}})
    est = cost.estimate([emr, nodes], prices, {}, "dev")
    expected = 730 * (0.192 + 0.048 + 4 * (0.504 + 0.126) + 3 * 0.384)
    assert est.monthly_usd == pytest.approx(expected, abs=0.05)
    emr50 = SimpleNamespace(type=cost.EMR_CLUSTER, name="batch", props={
        "masterInstanceGroup": {"instanceType": "m5.xlarge", "instanceCount": 1},
        "coreInstanceGroup": {"instanceType": "r5.2xlarge", "instanceCount": 200}})
    assert cost.estimate([emr50], prices, {}, "dev").monthly_usd > 90_000
    with pytest.raises(cost.CostError, match="ec2_instance_hour.x9.huge"):
        cost.estimate([SimpleNamespace(type=cost.EC2_INSTANCE, name="i", props={"instanceType": "x9.huge"})],
                      prices, {}, "dev")


def test_a_baseline_without_declared_usage_is_priced_with_the_new_usage(tmp_path: Path) -> None:
    data = yaml.safe_load((INFRA_DIR / "Pulumi.prod.yaml").read_text())
    del data["config"]["northstar:costUsage"]
    old = tmp_path / "Pulumi.prod.yaml"
    old.write_text(yaml.safe_dump(data))
    code, report = run("preview", "--stack", "prod", "--config", str(INFRA_DIR / "Pulumi.prod.yaml"), "--prices",
                       str(PRICES), "--baseline-config", str(old))
    assert code == 0 and "priced with the new costUsage" in report["baseline"]
    assert report["cost"]["monthly_usd"] == report["baseline_cost"]["monthly_usd"]
