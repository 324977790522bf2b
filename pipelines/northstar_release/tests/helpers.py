"""Shared test helpers: temporary git repos with tiny DAGs, a fast fake dagbag_check, and a CLI runner.

Why a fake checker as well as the real one: the real ``dagbag_check`` imports Airflow (~2.5 s per call). Policy and
exit-code tests only need *a* component that speaks the JSON contract; tests that are about DAG integrity use the
real entry point (see ``airflow_entrypoint``).
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

PIPELINES = Path(__file__).resolve().parents[2]
REPO = PIPELINES.parent
ENVIRONMENTS_YAML = PIPELINES / "environments.yaml"

GOOD_DAG = '''from datetime import datetime, timedelta
from airflow import DAG
from airflow.operators.empty import EmptyOperator

with DAG(dag_id="{dag_id}", start_date=datetime(2024, 1, 1), schedule=None, catchup=False, tags=["test"],
         default_args={{"owner": "data-platform", "retries": 1, "retry_delay": timedelta(minutes=1)}}) as dag:
    EmptyOperator(task_id="noop_{version}")
'''
LEGACY_DAG = '''from datetime import datetime
from airflow import DAG
from airflow.operators.empty import EmptyOperator

with DAG(dag_id="legacy_nightly", start_date=datetime(2024, 1, 1), schedule=None) as dag:
    EmptyOperator(task_id="noop")
'''
# The legacy fixture DAG breaks the new-DAG policies (default owner, no retries, no tags): like the real legacy DAGs
# it passes the dag_integrity gate only through a recorded exemption (legacy/dag_exemptions.yaml, shipped in the bundle).
LEGACY_EXEMPTIONS = '''exemptions:
  - {file: nightly.py, owner: data-platform, expires: 2099-12-31, reason: test fixture legacy DAG}
'''
BROKEN_DAG = '''from airflow import DAG
import northstar_module_that_does_not_exist  # import error: the DagBag must reject this bundle
'''

FAKE_CHECKER = r'''
import json, pathlib, sys
args = sys.argv[1:]
if not args:
    print(json.dumps({"error": "usage"})); sys.exit(2)
folders, skip = [], False
for a in args:  # folders only: --catalog/--exemptions name checker inputs the fake does not read
    if skip or a == "--pass-through":
        skip = False
        continue
    if a in ("--catalog", "--exemptions"):
        skip = True
        continue
    folders.append(a)
errors, ids = {}, []
for folder in folders:
    root = pathlib.Path(folder)
    if not root.is_dir():
        print(json.dumps({"error": f"missing folder {folder}"})); sys.exit(2)
    for f in sorted(root.rglob("*.py")):
        text = f.read_text()
        rel = f"{root.name}/{f.relative_to(root)}"
        if "does_not_exist" in text:
            errors[rel] = "ModuleNotFoundError: No module named 'northstar_module_that_does_not_exist'"
        elif "FAIL_ON_LIVE" in text and "/envs/" in str(f.resolve()):
            errors[rel] = "RuntimeError: fails only once live (simulated environment-specific failure)"
        else:
            ids.append(f.stem)
print(json.dumps({"dag_ids": ids, "import_errors": errors, "policy_violations": []}))
sys.exit(1 if errors else 0)
'''


def fake_checker_cmd(tmp: Path) -> str:
    script = tmp / "fake_dagbag_check.py"
    script.write_text(FAKE_CHECKER)
    return f"{shlex.quote(sys.executable)} {shlex.quote(str(script))}"


def airflow_entrypoint() -> str:
    """The real dagbag_check command. FAILS (not skips) when unavailable unless NORTHSTAR_SKIP_AIRFLOW=1."""
    configured = os.environ.get("NORTHSTAR_ENTRYPOINT_DAGBAG_CHECK")
    if configured:
        return configured
    py = Path("/tmp/venv-airflow/bin/python")
    module = REPO / "airflow" / "northstar_airflow" / "dagbag_check.py"
    if py.exists() and module.exists():
        return f"env PYTHONPATH={REPO / 'airflow'}:{REPO / 'pipelines'} {py} -m northstar_airflow.dagbag_check"
    if os.environ.get("NORTHSTAR_SKIP_AIRFLOW") == "1":
        pytest.skip("NORTHSTAR_SKIP_AIRFLOW=1 and no dagbag_check entry point")
    pytest.fail("dagbag_check entry point unavailable: set NORTHSTAR_ENTRYPOINT_DAGBAG_CHECK, or create "
                "/tmp/venv-airflow with apache-airflow==2.11.* (or set NORTHSTAR_SKIP_AIRFLOW=1 to skip)")


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True).stdout.strip()


def make_repo(root: Path, author: str = "alice@northstar.test") -> Path:
    repo = root / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    git(repo, "config", "user.email", author)
    git(repo, "config", "user.name", author.split("@")[0])
    (repo / "pipelines").mkdir()
    (repo / "pipelines" / "environments.yaml").write_text(ENVIRONMENTS_YAML.read_text())
    (repo / "airflow" / "dags").mkdir(parents=True)
    (repo / "legacy" / "legacy_dags").mkdir(parents=True)
    (repo / "airflow" / "dags" / "sales_daily.py").write_text(GOOD_DAG.format(dag_id="sales_daily", version=1))
    (repo / "legacy" / "legacy_dags" / "nightly.py").write_text(LEGACY_DAG)
    (repo / "legacy" / "dag_exemptions.yaml").write_text(LEGACY_EXEMPTIONS)
    (repo / ".gitignore").write_text(".release-state/\n")
    commit(repo, "initial DAGs")
    return repo


def commit(repo: Path, message: str) -> str:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)
    return git(repo, "rev-parse", "HEAD")


def release_id(repo: Path) -> str:
    return "rel-" + git(repo, "rev-parse", "HEAD")[:12]


@dataclass
class Result:
    code: int
    stdout: str
    stderr: str


class Cli:
    """Runs ``python -m northstar_release.cli`` in ``repo`` as a subprocess (real exit codes, real locks)."""

    def __init__(self, repo: Path, state_dir: Path, entrypoint: str, now: str = "2025-03-04T12:00:00Z") -> None:
        self.repo, self.state_dir, self.entrypoint, self.now = repo, state_dir, entrypoint, now

    def env(self, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("NORTHSTAR_") and k not in
               ("GITHUB_ACTOR", "CI_ACTOR")}
        env.update(PYTHONPATH=str(PIPELINES), NORTHSTAR_ENTRYPOINT_DAGBAG_CHECK=self.entrypoint,
                   NORTHSTAR_STATE_DIR=str(self.state_dir), NORTHSTAR_NOW=self.now, COLUMNS="200")
        env.update(extra)
        return env

    def cmd(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "northstar_release.cli", *args]

    def __call__(self, *args: str, expect: int | None = 0, **extra: str) -> Result:
        proc = subprocess.run(self.cmd(*args), cwd=self.repo, env=self.env(**extra), capture_output=True, text=True,
                              timeout=300)
        result = Result(proc.returncode, proc.stdout, proc.stderr)
        if expect is not None:
            assert proc.returncode == expect, (
                f"{' '.join(args)}: exit {proc.returncode}, expected {expect}\nstdout:\n{proc.stdout}\n"
                f"stderr:\n{proc.stderr}")
        return result

    def popen(self, *args: str, **extra: str) -> subprocess.Popen[str]:
        return subprocess.Popen(self.cmd(*args), cwd=self.repo, env=self.env(**extra), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)

    def live_target(self, env: str) -> str | None:
        link = self.state_dir / "envs" / env / "dags"
        return os.readlink(link).rsplit("/", 1)[-1] if link.is_symlink() else None

    def audit_ok(self) -> None:
        self("audit", "verify")
