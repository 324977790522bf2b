"""Test repos for the issue-11 gates: environments that run secret_scan, env_config and infra_cost, the real infra
stack files and price table, and the real per-env configs. The fake secrets are assembled at run time so that no
file of this repository holds one (the repository itself is scanned)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import yaml

from northstar_release.tests.helpers import ENVIRONMENTS_YAML, REPO, commit, make_repo

AWS_KEY = "AKIA" + "Z4QW7N2KX9PLB3TE"
FAKE_SF = "Fr0st" + "-pr0d-Q8wz"  # a Snowflake password, assembled at run time
SECRETS = (AWS_KEY, FAKE_SF)
ISSUE11_GATES = ["dag_integrity", "secret_scan", "env_config", "infra_policy", "infra_cost"]
INFRA_ENTRYPOINT_ENV = "NORTHSTAR_ENTRYPOINT_INFRA_CHECK"

DAG_WITH_KEY = '''from datetime import datetime
from airflow import DAG
from airflow.operators.empty import EmptyOperator

AWS_ACCESS_KEY_ID = "{key}"
with DAG(dag_id="orders_export", start_date=datetime(2024, 1, 1), schedule=None, catchup=False) as dag:
    EmptyOperator(task_id="noop")
'''
PROFILE = '''northstar:
  target: snowflake
  outputs:
    snowflake:
      type: snowflake
      account: "{{{{ env_var('SNOWFLAKE_ACCOUNT') }}}}"
      user: "{{{{ env_var('SNOWFLAKE_USER') }}}}"
      password: {password}
      schema: analytics
'''


def infra_entrypoint() -> str:
    """The infra_check PEX Pants hands to the tests, or a locally built one."""
    configured = os.environ.get(INFRA_ENTRYPOINT_ENV)
    if configured:
        return configured
    local = REPO / "dist" / "entrypoints" / "infra_check.pex"
    assert local.exists(), f"set {INFRA_ENTRYPOINT_ENV} or build it: ./pants package infra:infra_check"
    return str(local)


def issue11_repo(root: Path, infra: bool = True, dbt: bool = False) -> Path:
    """A test repo whose environments run the issue-11 gates, with the real configs (and infra files)."""
    repo = make_repo(root)
    envs = yaml.safe_load(ENVIRONMENTS_YAML.read_text())
    for env in envs["environments"].values():
        env["gates"] = list(ISSUE11_GATES)
    (repo / "pipelines" / "environments.yaml").write_text(yaml.safe_dump(envs))
    shutil.copytree(REPO / "pipelines" / "config", repo / "pipelines" / "config")
    if infra:
        (repo / "infra" / "pricing").mkdir(parents=True)
        for f in ["Pulumi.yaml", "Pulumi.dev.yaml", "Pulumi.staging.yaml", "Pulumi.prod.yaml"]:
            shutil.copy(REPO / "infra" / f, repo / "infra" / f)
        for table in (REPO / "infra" / "pricing").glob("*.yaml"):
            shutil.copy(table, repo / "infra" / "pricing" / table.name)
    if dbt:
        (repo / "dbt").mkdir()
        (repo / "dbt" / "dbt_project.yml").write_text("name: northstar\nversion: '1.0'\nprofile: northstar\n")
        (repo / "dbt" / "profiles.yml").write_text(PROFILE.format(password='"{{ env_var(\'SNOWFLAKE_PASSWORD\') }}"'))
    commit(repo, "issue 11 fixtures")
    return repo


def scale_sizing(repo: Path, stack: str, **factors: int) -> None:
    path = repo / "infra" / f"Pulumi.{stack}.yaml"
    data = yaml.safe_load(path.read_text())
    for key, factor in factors.items():
        data["config"]["northstar:sizing"][key] *= factor
    path.write_text(yaml.safe_dump(data))


def files_containing(folder: Path, needles: tuple[str, ...]) -> list[str]:
    """Every file under ``folder`` (binary included: SQLite, blobs, logs) that contains any needle."""
    hits = []
    for path in folder.rglob("*"):
        if path.is_file() and not path.is_symlink():
            data = path.read_bytes()
            hits += [f"{path}: {n[:4]}..." for n in needles if n.encode() in data]
    return hits
