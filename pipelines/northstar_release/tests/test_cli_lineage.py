"""Policy tags propagate through lineage, through the real CLI: a one-line change to a staging model that is not
finance itself but feeds finance marts is built as a `finance` release and needs two prod approvers (environments.yaml
finance_approvers_required); a change that reaches no finance target needs one. ``plan`` shows the same per change.

The repo is a copy of the platform's real dbt project (214 models), pipeline catalog and DAG files; no Pants here (the
engine reads lineage in-process, with the same package the Pants plugin infers dependencies with)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from northstar_release.tests.helpers import REPO, Cli, commit, fake_checker_cmd, git, make_repo

STG_SHIPMENTS = "dbt/models/staging/retail_oltp/stg_retail_oltp__shipments.sql"  # feeds fct_revenue_recognition
CALENDAR = "dbt/models/intermediate/calendar/int_calendar__dates.sql"  # feeds no finance target


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    repo = make_repo(tmp_path)
    for folder in ("dbt/models", "dbt/seeds", "dbt/tests", "dbt/dbt_packages", "pipelines/catalog", "airflow/dags"):
        shutil.copytree(REPO / folder, repo / folder, dirs_exist_ok=True,
                        ignore=shutil.ignore_patterns("__pycache__", "BUILD", "target", "logs"))
    shutil.copy(REPO / "dbt" / "dbt_project.yml", repo / "dbt" / "dbt_project.yml")
    commit(repo, "the platform's dbt project, catalog and DAGs")
    return Cli(repo, tmp_path / "state", fake_checker_cmd(tmp_path))


def _one_line_change(repo: Path, path: str) -> None:
    target = repo / path
    lines = target.read_text().splitlines(keepends=True)
    lines.insert(1, "-- reviewed: one-line change\n")
    target.write_text("".join(lines))
    commit(repo, f"one-line change to {path}")


def _build(cli: Cli, since: str) -> tuple[str, list[str], str]:
    res = cli("build", "--since", since, "--json")
    rel = json.loads(res.stdout)["release"]
    return rel["id"], rel["tags"], res.stderr


def test_staging_change_feeding_a_finance_mart_needs_two_prod_approvers(cli: Cli) -> None:
    base = git(cli.repo, "rev-parse", "HEAD")
    _one_line_change(cli.repo, STG_SHIPMENTS)

    plan = json.loads(cli("plan", "--since", base, "--json").stdout)
    assert plan["tags"] == ["finance"] and plan["approvals"] == {"prod": 2}
    assert plan["environments"]["prod"]["approvers"] == 2 and "finance" in plan["environments"]["prod"]["why"]
    [impact] = plan["impact"]
    assert impact["path"] == STG_SHIPMENTS and "finance" not in impact["kind"]
    assert {"fct_revenue_recognition", "fct_shipments"} <= set(impact["models"])
    assert set(impact["dags"]) == {"transform_staging_retail_oltp", "transform_finance_marts"}
    assert "finance: fct_revenue_recognition (model)" in impact["policy_reasons"]
    assert {"warehouse_audit", "dag_integrity"} <= set(impact["gates"])
    human = cli("plan", "--since", base).stdout
    assert "downstream impact per change" in human and "transform_finance_marts" in human
    assert "approvals: prod needs 2 (not the author) ('finance' reached: 2 instead of 1)" in human
    markdown = cli("plan", "--since", base, "--markdown").stdout
    assert "**Downstream impact per change:**" in markdown and "fct_revenue_recognition" in markdown
    assert "- prod: 2 approver(s), not the author ('finance' reached: 2 instead of 1)" in markdown

    rel, tags, stderr = _build(cli, base)
    assert tags == ["finance"] and "policy tags reached by the changes since" in stderr
    # promote enforces what plan showed: one approval is not enough, two are.
    cli("--as", "bob@northstar.test", "approve", rel, "--env", "prod")
    dry = json.loads(cli("promote", rel, "--to", "prod", "--dry-run", "--json", expect=1).stdout)
    assert any("prod needs 2 approver(s)" in r and "'finance'" in r for r in dry["would_block"])
    second = json.loads(cli("--as", "carol@northstar.test", "approve", rel, "--env", "prod", "--json").stdout)
    assert second["required"] == 2 and second["satisfied"] is True


def test_change_reaching_no_finance_target_plans_one_prod_approver(cli: Cli) -> None:
    base = git(cli.repo, "rev-parse", "HEAD")
    _one_line_change(cli.repo, CALENDAR)
    plan = json.loads(cli("plan", "--since", base, "--json").stdout)
    assert plan["tags"] == [] and plan["approvals"] == {"prod": 1}
    assert plan["impact"][0]["models"] and not plan["impact"][0]["policy_reasons"]
    # Built while prod is empty, the release ships everything: every policy tag applies, whatever --since says.
    rel, tags, stderr = _build(cli, base)
    assert tags == ["finance"] and "first release to prod" in stderr and "--since only adds tags" in stderr
    res = json.loads(cli("--as", "bob@northstar.test", "approve", rel, "--env", "prod", "--json").stdout)
    assert res["required"] == 2 and res["satisfied"] is False


def test_since_only_adds_tags(cli: Cli) -> None:
    """``build --since HEAD`` sees no change: were it the base, the finance tag (and the second approver) would be the
    builder's choice. Tags always come from prod's live commit (everything while prod is empty); --since adds."""
    from northstar_release.changes import build_tags

    prod_commit = git(cli.repo, "rev-parse", "HEAD")
    _one_line_change(cli.repo, STG_SHIPMENTS)
    head = git(cli.repo, "rev-parse", "HEAD")
    tags, why = build_tags(cli.repo, head, prod_commit, None)
    assert tags == {"finance"} and "--since only adds tags" in why
    assert build_tags(cli.repo, None, prod_commit, None)[0] == {"finance"}
    assert build_tags(cli.repo, head, None, None)[0] == {"finance"}  # prod empty: every policy tag
    _one_line_change(cli.repo, CALENDAR)
    assert build_tags(cli.repo, git(cli.repo, "rev-parse", "HEAD~1"), prod_commit, None)[0] == {"finance"}
    assert build_tags(cli.repo, None, git(cli.repo, "rev-parse", "HEAD~1"), None)[0] == set()  # the calendar edit alone


def test_the_build_entry_records_what_the_tags_were_computed_from(cli: Cli) -> None:
    _one_line_change(cli.repo, CALENDAR)
    rel, tags, _ = _build(cli, "HEAD~1")
    (entry,) = (e for e in json.loads(cli("audit", "export", rel, "--json").stdout)["audit_entries"]
                if e["action"] == "release.build")
    basis = entry["payload"]["tags_basis"]
    assert basis["since"] == git(cli.repo, "rev-parse", "HEAD~1") and basis["prod_live_commit"] is None, basis
    assert "first release to prod" in basis["why"] and tags == ["finance"]


def test_unparsable_model_is_bad_input_naming_the_file(cli: Cli) -> None:
    base = git(cli.repo, "rev-parse", "HEAD")
    (cli.repo / CALENDAR).write_text("select 1 from {{ ref('x' }}\n")
    commit(cli.repo, "broken Jinja")
    res = cli("plan", "--since", base, expect=2)
    assert f"{CALENDAR}:1: dbt Jinja does not parse" in res.stderr
