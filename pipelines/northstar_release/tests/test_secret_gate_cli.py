"""Secret scanning through the real CLI: a fake AWS key committed in a DAG and a Snowflake password committed in a dbt
profile are refused at ``plan`` (changed sources) and at ``build`` (built artifacts) with file and line, and the value
appears in no output, state, artifact or audit record."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from northstar_release.tests.helpers import Cli, commit, fake_checker_cmd, git
from northstar_release.tests.issue11_helpers import (
    AWS_KEY,
    DAG_WITH_KEY,
    FAKE_SF,
    PROFILE,
    SECRETS,
    files_containing,
    issue11_repo,
)


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    repo = issue11_repo(tmp_path, infra=False, dbt=True)
    return Cli(repo, tmp_path / "state", fake_checker_cmd(tmp_path))


@pytest.mark.parametrize("case", ["aws_key_in_dag", "snowflake_password_in_profile"])
def test_committed_secret_is_refused_at_plan_and_build_and_never_shown(cli: Cli, case: str) -> None:
    first = json.loads(cli("build", "--json").stdout)["release"]["id"]  # a clean release to compare with
    if case == "aws_key_in_dag":
        path, line, rule = "airflow/dags/orders_export.py", 5, "AWS Access Key"
        (cli.repo / path).write_text(DAG_WITH_KEY.format(key=AWS_KEY))
    else:
        path, line, rule = "dbt/profiles.yml", 8, "Password in Config"
        (cli.repo / path).write_text(PROFILE.format(password=f'"{FAKE_SF}"'))
    commit(cli.repo, f"add {case}")
    outputs = []

    plan = cli("plan", "--since", "HEAD~1", expect=1)
    outputs.append(plan.stdout + plan.stderr)
    assert f"{path}:{line}: {rule}" in plan.stderr
    plan_json = json.loads(cli("plan", "--since", "HEAD~1", "--json", expect=1).stdout)
    outputs.append(json.dumps(plan_json))
    assert plan_json["exit_code"] == 1 and any(r.startswith(f"{path}:{line}: {rule}") for r in plan_json["reasons"])

    build = cli("build", expect=1)
    outputs.append(build.stdout + build.stderr)
    member = path.split("/", 1)[1] if case == "aws_key_in_dag" else path.split("/", 1)[1]
    assert "secret scan" in build.stderr and f"!{member}:{line}: {rule}" in build.stderr
    build_json = json.loads(cli("build", "--json", expect=1).stdout)
    outputs.append(json.dumps(build_json))

    # Nothing of the refused commit was stored: no release, no new blob, no audit entry.
    head = git(cli.repo, "rev-parse", "HEAD")[:12]
    assert cli("show", f"rel-{head}", expect=2).code == 2
    status = cli("audit", "export", first, "--format", "json")
    outputs.append(status.stdout + status.stderr)
    for text in outputs:
        for secret in SECRETS:
            assert secret not in text
    assert files_containing(cli.state_dir, SECRETS) == []


def test_a_reviewed_false_positive_in_the_committed_baseline_does_not_block(cli: Cli) -> None:
    """The baseline at the commit (detect-secrets format, hashes only) lets a reviewed finding through."""
    from northstar_secrets.baseline import write_baseline

    cli("build")
    (cli.repo / "dbt" / "profiles.yml").write_text(PROFILE.format(password='"documented-example-only"'))
    write_baseline([cli.repo / "dbt" / "profiles.yml"], cli.repo, cli.repo / ".secrets.baseline")
    assert "documented-example-only" not in (cli.repo / ".secrets.baseline").read_text()
    commit(cli.repo, "reviewed example password, baselined")
    out = json.loads(cli("build", "--json").stdout)
    assert out["created"] is True
