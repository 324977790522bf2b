"""The runbooks in docs/runbooks/ are executed, so a runbook that drifts from the CLI fails the suite.

Each page has one ``sh`` block under ``## Commands`` (at most five commands, counted by ``command_count``). This
test sets up the situation the page starts from in a temporary git repository (two DAG files, a legacy DAG; the real
environments.yaml), runs the block
with ``bash -euo pipefail`` exactly as written, with only the page's ``$VARIABLES`` set, and then checks the outcome
the page promises through the CLI's JSON.

What is real: the release engine (``python -m northstar_release.cli``), its SQLite state, locks, audit chain and gates.
What is not: ``./release`` in the temporary repository is a shim that starts the engine directly (the real script
first builds the component entry points with Pants, which cannot run inside a Pants test sandbox), and the DAG check
is the contract-only fake of helpers.py. docs/runbooks/README.md says the same to the reader.
"""

from __future__ import annotations

import json
import shlex
import shutil
import subprocess
import sys
import tarfile
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
import yaml

from northstar_release.tests.health_helpers import airflow_runs, policy_now
from northstar_release.tests.helpers import GOOD_DAG, LEGACY_DAG, REPO, Cli, commit, fake_checker_cmd, git, make_repo, release_id
from northstar_release.tests.issue11_helpers import INFRA_ENTRYPOINT_ENV, infra_entrypoint

RUNBOOKS = REPO / "docs" / "runbooks"
MAX_COMMANDS = 5
OPERATOR = "carol@northstar.test"  # who runs the runbook: not the author (alice) of the releases it acts on
SHIM = '#!/bin/sh\nexec "$RUNBOOK_PYTHON" -m northstar_release.cli "$@"\n'


def commands_of(page: Path) -> list[str]:
    """The command lines of the page's one ``sh`` block under ``## Commands`` (comments and blanks dropped)."""
    lines = page.read_text(encoding="utf-8").splitlines()
    try:
        start = lines.index("## Commands")
    except ValueError:
        raise AssertionError(f"{page.name}: no '## Commands' section") from None
    fence = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("```")), None)
    assert fence is not None and lines[fence] == "```sh", f"{page.name}: the Commands section has no ```sh block"
    end = next(i for i in range(fence + 1, len(lines)) if lines[i].startswith("```"))
    return [ln for ln in lines[fence + 1:end] if ln.strip() and not ln.lstrip().startswith("#")]


def command_count(lines: list[str]) -> int:
    """How many commands the lines hold: each line is one, and every ``&&`` or ``;`` outside quotes joins one more
    (``a && b`` is two steps an operator runs). A pipe and ``|| [ $? -eq 1 ]`` (accepting an expected exit code)
    belong to the command they follow."""
    count = 0
    for line in lines:
        lexer = shlex.shlex(line, posix=True, punctuation_chars=";&|")
        lexer.whitespace_split = True
        count += 1 + sum(1 for token in lexer if token in ("&&", ";"))
    return count


class OperatorCli(Cli):
    """The CLI as the operator, plus the entry points a page's scenario needs beyond the fake DAG check."""

    extra: dict[str, str]

    def env(self, **extra: str) -> dict[str, str]:
        return super().env(**{"GITHUB_ACTOR": OPERATOR, **self.extra, **extra})


class Scenario:
    """A temporary repository plus the CLI that drives it as the operator."""

    def __init__(self, tmp: Path) -> None:
        self.repo = make_repo(tmp)
        (self.repo / "release").write_text(SHIM)
        (self.repo / "release").chmod(0o755)
        commit(self.repo, "add the release entry script")
        self.cli = OperatorCli(self.repo, tmp / "state", fake_checker_cmd(tmp))
        self.cli.extra = {}
        self.tmp = tmp

    def env(self, **variables: str) -> dict[str, str]:
        return self.cli.env(RUNBOOK_PYTHON=sys.executable, **variables)

    def json(self, *args: str) -> dict:
        out: dict = json.loads(self.cli(*args, "--json").stdout)
        return out

    def to_prod(self) -> str:
        self.cli("build")
        rel = release_id(self.repo)
        self.cli("deploy", rel, "--env", "dev")
        self.cli("promote", rel, "--to", "staging")
        self.cli("--as", "bob@northstar.test", "approve", rel, "--env", "prod")
        self.cli("--as", OPERATOR, "promote", rel, "--to", "prod")
        return rel

    def new_commit(self, message: str) -> None:
        dag = self.repo / "airflow" / "dags" / "sales_daily.py"
        dag.write_text(dag.read_text().replace("noop_1", f"noop_{len(git(self.repo, 'log', '--oneline'))}"))
        commit(self.repo, message)

    def live_release(self, env: str) -> str | None:
        entry = self.json("status", "--env", env)["environments"][env]
        on_disk = {a["on_disk"] == a["sha256"] for a in entry["artifacts"].values()}
        assert on_disk == {True}, entry  # what is recorded is what is on disk
        live: str | None = entry["live_release"]
        return live

    def run_page(self, page: str, **variables: str) -> subprocess.CompletedProcess[str]:
        commands = commands_of(RUNBOOKS / page)
        count = command_count(commands)
        assert 0 < count <= MAX_COMMANDS, f"{page}: {count} commands (at most {MAX_COMMANDS})"
        script = "\n".join(commands) + "\n"
        proc = subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=self.repo, env=self.env(**variables),
                              capture_output=True, text=True, timeout=600)
        assert proc.returncode == 0, f"{page} failed (exit {proc.returncode}):\n{script}\nstdout:\n{proc.stdout[-3000:]}" \
                                     f"\nstderr:\n{proc.stderr[-3000:]}"
        assert "Traceback" not in proc.stderr, proc.stderr
        return proc


@pytest.fixture
def scenario(tmp_path: Path) -> Scenario:
    return Scenario(tmp_path)


def test_every_runbook_page_is_indexed_and_tested() -> None:
    pages = {p.name for p in RUNBOOKS.glob("*.md")} - {"README.md"}
    index = (RUNBOOKS / "README.md").read_text(encoding="utf-8")
    assert pages and all(f"]({p})" in index for p in pages), sorted(pages)
    assert pages == set(CHECKS), f"pages without a test here, or tests without a page: {pages ^ set(CHECKS)}"
    for page in pages:
        assert 0 < command_count(commands_of(RUNBOOKS / page)) <= MAX_COMMANDS, page


def test_commands_joined_by_and_or_semicolon_count_separately() -> None:
    assert command_count(["mkdir -p x && cp -R a x/", "git add x; git commit -m 'a && b; c'"]) == 4
    assert command_count(["./release health regressions --json > f || [ $? -eq 1 ]", "git log | head -1"]) == 2


def test_commands_block_is_required(tmp_path: Path) -> None:
    page = tmp_path / "x.md"
    page.write_text("# x\n\n```sh\n./release status\n```\n")
    with pytest.raises(AssertionError, match="no '## Commands' section"):
        commands_of(page)


def check_ship_a_change(s: Scenario) -> None:
    s.new_commit("sales_daily: one more task")
    s.run_page("ship-a-change.md")
    assert s.live_release("dev") == release_id(s.repo)


def check_promote_to_prod(s: Scenario) -> None:
    s.cli("build")
    rel = release_id(s.repo)
    s.cli("deploy", rel, "--env", "dev")
    s.run_page("promote-to-prod.md", RELEASE=rel, APPROVER="bob@northstar.test", WHY="reviewed the diff")
    assert s.live_release("prod") == rel
    shown = s.json("show", rel)
    assert [a["approver"] for a in shown["approvals"]["prod"]] == ["bob@northstar.test"], shown["approvals"]


def check_roll_back(s: Scenario) -> None:
    v1 = s.to_prod()
    s.new_commit("v2")
    v2 = s.to_prod()
    assert s.live_release("prod") == v2
    s.run_page("roll-back.md", REASON="v2 regressed sales_daily")
    assert s.live_release("prod") == v1
    (last, *_rest) = s.json("history", "--env", "prod")["deployments"]
    assert last["release_id"] == v1 and last["status"] == "succeeded", last


def check_hotfix(s: Scenario) -> None:
    v1 = s.to_prod()
    s.new_commit("fix: sales_daily")
    fix = release_id(s.repo)
    s.run_page("hotfix.md", RELEASE=fix, ONCALL="oncall@northstar.example", WHY="prod broken since v1",
               REVIEWER="bob@northstar.test", REVIEW="reviewed the diff after the fact")
    assert s.live_release("prod") == fix != v1
    assert s.live_release("dev") == v1  # straight from the commit: no dev/staging detour
    shown = s.json("show", fix)
    assert "hotfix" in shown["release"]["tags"], shown["release"]
    actions = [e["action"] for e in s.json("audit", "export", fix)["audit_entries"]]
    assert "hotfix.review" in actions and "deploy.succeeded" in actions, actions


def check_onboard_legacy_dag(s: Scenario) -> None:
    dag = s.tmp / "legacy_supplier_poll.py"
    dag.write_text(LEGACY_DAG.replace("legacy_nightly", "legacy_supplier_poll"))
    s.run_page("onboard-legacy-dag.md", DAG_FILE=str(dag), OWNER="supply-chain-data", EXPIRES="2099-06-30",
               REASON="FTP poll: rewrite when suppliers move to S3")
    exemptions = yaml.safe_load((s.repo / "legacy" / "dag_exemptions.yaml").read_text())["exemptions"]
    assert exemptions[-1] == {"file": "legacy_supplier_poll.py", "owner": "supply-chain-data",
                              "expires": date(2099, 6, 30), "reason": "FTP poll: rewrite when suppliers move to S3"}
    assert len(exemptions) == 2  # appended to the existing list, which still parses
    rel = release_id(s.repo)
    s.cli("deploy", rel, "--env", "dev")  # the next runbook (ship-a-change.md)
    assert s.live_release("dev") == rel
    shipped = list((s.cli.state_dir / "envs" / "dev").rglob("legacy_supplier_poll.py"))
    assert shipped and shipped[0].read_text() == dag.read_text()


def check_rotate_a_secret(s: Scenario) -> None:
    for env in ("dev", "staging", "prod"):
        (s.repo / "pipelines" / "config").mkdir(exist_ok=True)
        shutil.copy(REPO / "pipelines" / "config" / f"{env}.yaml", s.repo / "pipelines" / "config")
    (s.repo / "infra" / "pricing").mkdir(parents=True, exist_ok=True)
    for stack in [*REPO.glob("infra/Pulumi*.yaml"), *REPO.glob("infra/pricing/*.yaml")]:
        shutil.copy(stack, s.repo / stack.relative_to(REPO))
    commit(s.repo, "per-environment configs")
    # With the stack files the release carries an infra version map, so the infra gates run their real entry point.
    entry = infra_entrypoint()
    s.cli.extra[INFRA_ENTRYPOINT_ENV] = str(Path(entry).absolute()) if Path(entry).exists() else entry
    s.cli("build")
    before = release_id(s.repo)
    s.cli("deploy", before, "--env", "dev")
    old, new = "env:AIRFLOW_CONN_WAREHOUSE", "env:AIRFLOW_CONN_WAREHOUSE_V2"
    assert old in (s.repo / "pipelines" / "config" / "dev.yaml").read_text()
    s.run_page("rotate-a-secret.md", OLD_REF=old, NEW_REF=new)
    after = release_id(s.repo)
    assert after != before and s.live_release("dev") == after
    shas = {}
    for rel in (before, after):
        doc = s.json("audit", "export", rel)
        (gate,) = (g for d in doc["deployments"]["dev"] for g in d["gate_results"] if g["gate"] == "env_config")
        shas[rel] = json.dumps(gate["evidence"], sort_keys=True)
    assert shas[before] != shas[after]  # the evidence names the new config's digest


def check_auditor_evidence(s: Scenario) -> None:
    rel = s.to_prod()
    (s.repo / "scripts").mkdir()
    shutil.copy(REPO / "scripts" / "verify-evidence", s.repo / "scripts")
    commit(s.repo, "the evidence verifier, as in the real repository")
    anchor, as_json, as_md = s.tmp / "anchor.json", s.tmp / "evidence.json", s.tmp / "evidence.md"
    proc = s.run_page("auditor-evidence.md", RELEASE=rel, ANCHOR=str(anchor), EVIDENCE_JSON=str(as_json),
                      EVIDENCE_MD=str(as_md))
    text = as_md.read_text()
    assert rel in text and "bob@northstar.test" in text, text[:2000]
    assert json.loads(as_json.read_text())["release"] == rel
    assert json.loads(anchor.read_text())["seq"] > 0
    assert f"verified: {rel}" in proc.stdout and "anchor contained" in proc.stdout, proc.stdout


# An existing dbt project to migrate: a model using the vendored package's macro (northstar_utils.safe_divide) on a
# platform model, a macro of its own, and its tests.
LEGACY_DBT = {
    "models/daily_order_value.sql": "select order_date, {{ northstar_utils.safe_divide('revenue', 'order_count') }} "
                                    "as avg_order_value, {{ legacy_round('revenue') }} as revenue_rounded\n"
                                    "from {{ ref('fct_daily_revenue') }}\n",
    "models/schema.yml": "version: 2\nmodels:\n  - name: daily_order_value\n    columns:\n      - name: order_date\n"
                         "        data_tests: [not_null, unique]\n",
    "macros/legacy_round.sql": "{% macro legacy_round(x) %}round({{ x }}, 2){% endmacro %}\n",
}


def check_migrate_a_dbt_project(s: Scenario) -> None:
    for folder in ("dbt/models", "dbt/macros", "dbt/seeds", "dbt/tests", "dbt/dbt_packages", "pipelines/catalog"):
        shutil.copytree(REPO / folder, s.repo / folder, dirs_exist_ok=True,
                        ignore=shutil.ignore_patterns("__pycache__", "BUILD", "target", "logs"))
    for name in ("dbt_project.yml", "packages.yml", "package-lock.yml"):
        shutil.copy(REPO / "dbt" / name, s.repo / "dbt" / name)
    commit(s.repo, "the platform's warehouse project with its vendored packages")
    project = s.tmp / "legacy_dbt"
    for rel, text in LEGACY_DBT.items():
        (project / rel).parent.mkdir(parents=True, exist_ok=True)
        (project / rel).write_text(text)
    proc = s.run_page("migrate-a-dbt-project.md", PROJECT=str(project), DOMAIN="legacy_stores")
    assert "dbt/models/legacy_stores/daily_order_value.sql" in proc.stdout  # plan names the migrated model
    s.cli("build")  # the next runbook (ship-a-change.md)
    rel = release_id(s.repo)
    (art,) = (a for a in s.json("show", rel)["release"]["artifacts"] if a["kind"] == "warehouse_project")
    blob = s.cli.state_dir / "artifacts"
    (path,) = (p for p in blob.rglob(art["sha256"] + "*") if p.is_file())
    with tarfile.open(path, "r:gz") as tar:
        names = set(tar.getnames())
    assert {"models/legacy_stores/daily_order_value.sql", "macros/legacy_stores/legacy_round.sql", "package-lock.yml",
            "dbt_packages/northstar_utils/macros/helpers.sql"} <= {n.removeprefix("./") for n in names}, sorted(names)[:20]


HEALTH_CATALOG = """
domain: sales
pipelines:
  - {id: sales_daily_load, kind: batch_ingest, sla: {batch_minutes: 30}, runs: {dag: sales_daily}}
"""


def check_respond_to_a_regression_alert(s: Scenario) -> None:
    # Real Airflow runs (the health fixture PEX) in prod's metadata DB: 25 good runs under v1, then v2 (passes every
    # gate) fails 3 of 15 runs in prod. The scheduled watch has already alerted and rolled prod back to v1.
    s.cli.now = policy_now()
    (s.repo / "pipelines" / "catalog" / "pipelines").mkdir(parents=True)
    (s.repo / "pipelines" / "catalog" / "pipelines" / "sales.yaml").write_text(HEALTH_CATALOG)
    commit(s.repo, "catalog: sales_daily's SLA")
    v1 = s.to_prod()
    home = s.cli.state_dir / "envs" / "prod" / "airflow"
    airflow_runs(home, "sales_daily", 25)
    (s.repo / "airflow" / "dags" / "sales_daily.py").write_text(GOOD_DAG.format(dag_id="sales_daily", version=2))
    commit(s.repo, "v2: passes every gate, fails one run in five in prod")
    v2 = s.to_prod()
    airflow_runs(home, "sales_daily", 15, {4, 9, 14})
    alerted = json.loads(s.cli("health", "watch", "--env", "prod", "--json", expect=1).stdout)
    assert alerted["status"] == "rolled_back" and alerted["rollback"]["release_id"] == v1
    findings = s.tmp / "findings.json"
    proc = s.run_page("respond-to-a-regression-alert.md", FINDINGS=str(findings))
    verdicts = {(v["pipeline"], v["metric"]): v for v in json.loads(findings.read_text())}
    assert verdicts[("sales_daily", "failure_rate")]["regressed"], verdicts
    assert "already_rolled_back" in proc.stdout and v2 != v1 and s.live_release("prod") == v1
    (last, *_rest) = s.json("history", "--env", "prod")["deployments"]
    assert last["action"] == "rollback" and last["reason"].startswith("regression: sales_daily failure_rate"), last


CHECKS: dict[str, Callable[[Scenario], None]] = {
    "ship-a-change.md": check_ship_a_change,
    "promote-to-prod.md": check_promote_to_prod,
    "roll-back.md": check_roll_back,
    "hotfix.md": check_hotfix,
    "onboard-legacy-dag.md": check_onboard_legacy_dag,
    "rotate-a-secret.md": check_rotate_a_secret,
    "auditor-evidence.md": check_auditor_evidence,
    "migrate-a-dbt-project.md": check_migrate_a_dbt_project,
    "respond-to-a-regression-alert.md": check_respond_to_a_regression_alert,
}


@pytest.mark.parametrize("page", sorted(CHECKS))
def test_runbook(page: str, scenario: Scenario) -> None:
    CHECKS[page](scenario)
