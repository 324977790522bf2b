"""``./release cost``: the platform's monthly cost per stack and component, through the real CLI and the real
``infra_check`` entry point (the Pulumi program under mocks, the real stack files and price table).

What is asserted: every program figure is the one ``infra_check preview`` reports for that stack (the infra_cost
gate's estimate), the per-component cells add up to it, the incremental total is the sum of the incremental
per-component figures, and the headroom line is the budget of pipelines/config/prod.yaml minus that total. Moving
the budget or the baseline moves the verdict; a malformed cost model is exit 2 naming the file and the key.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from northstar_release.cost_model import COMPONENTS, classify
from northstar_release.errors import UsageError
from northstar_release.tests.helpers import REPO, Cli, commit, fake_checker_cmd
from northstar_release.tests.issue11_helpers import INFRA_ENTRYPOINT_ENV, infra_entrypoint, issue11_repo

STACKS = ("dev", "staging", "prod")


class InfraCli(Cli):
    def env(self, **extra: str) -> dict[str, str]:
        return super().env(**{INFRA_ENTRYPOINT_ENV: infra_entrypoint(), **extra})


@pytest.fixture
def cli(tmp_path: Path) -> InfraCli:
    repo = issue11_repo(tmp_path)
    shutil.copy(REPO / "infra" / "cost-model.yaml", repo / "infra" / "cost-model.yaml")
    commit(repo, "the cost model")
    return InfraCli(repo, tmp_path / "state", fake_checker_cmd(tmp_path))


def _preview_total(repo: Path, stack: str) -> float:
    """What the gate's component entry point says the stack costs, called directly."""
    (table,) = sorted((repo / "infra" / "pricing").glob("*.yaml"))
    proc = subprocess.run([*infra_entrypoint().split(), "preview", "--stack", stack, "--config",
                           str(repo / "infra" / f"Pulumi.{stack}.yaml"), "--prices", str(table)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    total: float = json.loads(proc.stdout)["cost"]["monthly_usd"]
    return total


def test_figures_are_the_gates_estimates_and_the_totals_add_up(cli: InfraCli) -> None:
    doc = json.loads(cli("cost", "--json").stdout)
    assert doc["price_table"] == "aws-us-east-1-2026-11" and doc["budget_usd"] == 15000.0
    for stack in STACKS:
        program = {c: v for c, v in doc["stacks"][stack]["components"].items() if v["source"] == "program"}
        assert doc["program_stack_totals"][stack] == _preview_total(cli.repo, stack) > 0
        assert sum(v["monthly_usd"] for v in program.values()) == pytest.approx(doc["program_stack_totals"][stack],
                                                                                 abs=0.01)
    # dev and staging are new stacks: everything there is incremental; prod's existing estate is not
    assert all(v["incremental"] for s in ("dev", "staging") for v in doc["stacks"][s]["components"].values())
    prod = doc["stacks"]["prod"]["components"]
    assert not prod["emr"]["incremental"] and not prod["kafka"]["incremental"] and prod["kms"]["incremental"]
    assert prod["artifact_store"]["incremental"] and doc["stacks"]["shared"]["components"]["release_state"]

    inc = doc["incremental"]
    cells = [(s, c, v) for s, e in doc["stacks"].items() for c, v in e["components"].items()]
    for component, figure in inc["by_component"].items():
        assert figure == pytest.approx(sum(v["monthly_usd"] for _, c, v in cells if c == component and v["incremental"]),
                                       abs=0.01)
    assert inc["total_usd"] == pytest.approx(sum(inc["by_component"].values()), abs=0.01)
    assert inc["total_usd"] == pytest.approx(sum(v["monthly_usd"] for *_, v in cells if v["incremental"]), abs=0.01)
    assert inc["headroom_usd"] == pytest.approx(doc["budget_usd"] - inc["total_usd"], abs=0.01)
    assert inc["headroom_pct"] == pytest.approx(inc["headroom_usd"] / doc["budget_usd"] * 100, abs=0.05)
    assert inc["meets_goal"] is (inc["headroom_pct"] >= 30)
    assert doc["all_in_usd"] == pytest.approx(sum(v["monthly_usd"] for *_, v in cells), abs=0.01)
    assert any("8 TB/day" in n for n in doc["notes"]) and any("releases/day" in n for n in doc["notes"])

    human = cli("cost").stdout
    assert f"incremental total ${inc['total_usd']:,.2f}/month" in human
    assert f"headroom ${inc['headroom_usd']:,.2f} ({inc['headroom_pct']:.1f}%)" in human


def test_design_doc_shows_the_cost_commands_output(cli: InfraCli) -> None:
    """docs/design.md section 6 is `./release cost --markdown` pasted between markers: the fixture carries the real
    stack files, price table, cost model and prod budget, so the command's output here is the doc's block exactly."""
    text = (REPO / "docs" / "design.md").read_text(encoding="utf-8")
    begin, end = "<!-- BEGIN ./release cost --markdown -->\n", "<!-- END ./release cost --markdown -->"
    assert begin in text and end in text, "docs/design.md lost its cost block markers"
    shown = text.split(begin, 1)[1].split(end, 1)[0]
    produced = cli("cost", "--markdown").stdout
    assert "| total |" in produced and "headroom" in produced
    assert shown == produced, ("docs/design.md section 6 differs from `./release cost --markdown`: paste the "
                               "command's output between the markers")


def test_budget_and_baseline_move_the_verdict(cli: InfraCli) -> None:
    base = json.loads(cli("cost", "--json").stdout)["incremental"]["total_usd"]
    prod = cli.repo / "pipelines" / "config" / "prod.yaml"
    prod.write_text(prod.read_text().replace("monthly_budget_usd: 15000", f"monthly_budget_usd: {round(base * 1.2)}"))
    commit(cli.repo, "a budget with 1/6 headroom")
    tight = json.loads(cli("cost", "--json").stdout)["incremental"]
    assert tight["total_usd"] == base and not tight["meets_goal"] and "under the 30% goal" in tight["verdict"]

    model = cli.repo / "infra" / "cost-model.yaml"
    data = yaml.safe_load(model.read_text())
    data["baseline"] = {}  # as if prod were built from nothing
    model.write_text(yaml.safe_dump(data))
    commit(cli.repo, "no existing estate")
    worst = json.loads(cli("cost", "--json").stdout)
    assert worst["incremental"]["total_usd"] == pytest.approx(worst["all_in_usd"], abs=0.01)
    assert worst["incremental"]["verdict"].startswith("DOES NOT FIT")
    assert not cli.state_dir.exists()  # read-only: no release state was created


def test_a_bad_cost_model_is_exit_2_naming_the_file_and_key(cli: InfraCli) -> None:
    model = cli.repo / "infra" / "cost-model.yaml"
    model.write_text(model.read_text().replace("releases_per_day: [20, 30]", "releases_per_day: [twenty, 30]"))
    commit(cli.repo, "broken cost model")
    doc = json.loads(cli("cost", "--json", expect=2).stdout)
    assert "infra/cost-model.yaml: invalid cost model" in doc["error"]
    assert any(r.startswith("infra/cost-model.yaml: assumptions.releases_per_day") for r in doc["reasons"])


def test_every_priced_type_has_a_component_and_an_unknown_one_is_refused() -> None:
    assert classify("aws:s3/bucket:Bucket::northstar-artifacts-dev", "S3 storage (artifacts)") == "artifact_store"
    assert classify("aws:kms/key:Key::northstar-data-dev", "KMS key") == "kms"
    assert classify("stack::prod", "cross-AZ transfer") == "data_transfer"
    assert set(COMPONENTS) >= {"emr", "airflow", "s3_storage", "s3_requests", "kms", "artifact_store",
                               "release_state", "monitoring", "data_transfer"}
    with pytest.raises(UsageError, match="belongs to no component"):
        classify("aws:ec2/instance:Instance::bastion", "EC2 m5.xlarge x1")
