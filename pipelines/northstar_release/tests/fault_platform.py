"""A small real platform for the fault-injection matrix (test_fault_matrix.py), and the checks run after each case.

Why a fixture platform: the matrix kills a real CLI process at 34 points and runs real commands after each kill;
on the full platform (214 models, 20 Spark PEXes) one case would take minutes. The fixture keeps every moving part
real -- the CLI as a subprocess (``python -m northstar_release.cli``), SQLite state and its audit chain,
the content-addressed store, the DAG bundle symlink switch, the local Avro schema registry, the infra stack config
rendered from the version map and checked by the real ``infra_check`` PEX, and (``with_warehouse``) SQLMesh on DuckDB
over the 5-model pilot dbt slice through the real ``warehouse`` entry point -- and only shrinks their content. The DAG
check is the fast fake ``dagbag_check`` of helpers.py (the real one imports Airflow: 2.5 s per call); Spark is not
in the fixture (packaging runs Pants); its adapter's reality check is tested in test_reality_kinds.py.

Three releases (each changes every kind): dev ran v1 then v2, prod runs v1, v3 is built. The killed commands are
``deploy v3 --env dev``, ``promote v2 --to prod`` and ``rollback --env dev``. The baseline is built once and copied
into place before each case (same absolute path: SQLMesh state records paths).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from northstar_release.component_process import env_var_for
from northstar_release.faults import ENABLE_VAR, FAULT_VAR
from northstar_release.state import open_store
from northstar_release.state.reconcile import verify_state
from northstar_release.tests.helpers import GOOD_DAG, REPO, Cli, commit, fake_checker_cmd, make_repo
from northstar_release.tests.pilot_dbt import copy_pilot_dbt
from northstar_secrets.baseline import write_baseline

ENVIRONMENTS = """environments:
  dev: {order: 1, promotion: automatic, gates: [], backend: local}
  prod: {order: 2, promotion: automatic, previous: dev, gates: [], backend: local}
"""
SCHEMAS = "pipelines/catalog/schemas"
MART = "fct_daily_revenue"
MART_SQL = f"dbt/models/marts/{MART}.sql"
COUNTS = ("count(*) as order_count", "count(distinct o.order_id) as order_count", "count(o.order_id) as order_count")
NEW_TOPIC = f"{SCHEMAS}/fault.matrix_events.v1"


def _schema(version: int) -> str:
    fields = [{"name": "id", "type": "string"}] + [
        {"name": f"f{i}", "type": "string", "default": ""} for i in range(2, version + 1)]
    return json.dumps({"type": "record", "name": "FaultMatrixEvent", "namespace": "northstar.test",
                       "fields": fields}, indent=2) + "\n"


def _rmtree(path: Path) -> None:
    """Remove a state folder whose deployed artifacts are read-only."""
    if not path.exists():
        return
    for p in [path, *path.rglob("*")]:
        if p.is_dir() and not p.is_symlink():
            p.chmod(0o755)
    shutil.rmtree(path)


class PlatformCli(Cli):
    """The CLI with the platform's component entry points and (optionally) a fault point."""

    def __init__(self, repo: Path, state_dir: Path, entrypoint: str, components: dict[str, str]) -> None:
        super().__init__(repo, state_dir, entrypoint)
        self.components = components

    def env(self, **extra: str) -> dict[str, str]:
        return super().env(**self.components, **extra)

    def killed(self, args: tuple[str, ...], point: str) -> str:
        """Run ``args`` with a SIGKILL requested at ``point``; assert it died there; return its stderr."""
        proc = subprocess.run(self.cmd(*args), cwd=self.repo, capture_output=True, text=True, timeout=600,
                              env=self.env(**{ENABLE_VAR: "1", FAULT_VAR: point}))
        assert proc.returncode == -signal.SIGKILL and f"FAULT {point} " in proc.stderr, (
            f"{' '.join(args)} was not killed at {point}: exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}")
        return proc.stderr

    def json(self, *args: str, expect: int | None = 0) -> Any:
        return json.loads(self(*args, "--json", expect=expect).stdout)


@dataclass
class Platform:
    root: Path
    repo: Path
    cli: PlatformCli
    releases: list[str]
    with_warehouse: bool
    template: Path
    # (release id, env) -> the env's warehouse tables while that release was live and verified (reference run)
    tables: dict[tuple[str, str], Any] = field(default_factory=dict)

    @property
    def state(self) -> Path:
        return self.cli.state_dir

    def reset(self) -> None:
        """Put the baseline state back (same path) before a case."""
        _rmtree(self.state)
        shutil.copytree(self.template, self.state, symlinks=True)

    def env_tables(self, env: str) -> Any:
        return self.cli.json("tables", "--env", env) if self.with_warehouse else None

    def stage_points(self, args: tuple[str, ...]) -> list[str]:
        """Every stage boundary of the command's plan (from its dry run at the baseline)."""
        doc = self.cli.json(*args, "--dry-run")
        names = [s["name"] for s in doc["plan"]["stages"]]
        return ["recovered", "start", *(f"before:{n}" for n in names), "after:record"]


def make_platform(root: Path, *, with_warehouse: bool, components: dict[str, str]) -> Platform:
    repo = make_repo(root)
    (repo / "pipelines" / "environments.yaml").write_text(ENVIRONMENTS)
    infra = repo / "infra"
    infra.mkdir()
    for name in ("Pulumi.yaml", "Pulumi.dev.yaml", "Pulumi.prod.yaml"):
        shutil.copy(REPO / "infra" / name, infra / name)
    (repo / NEW_TOPIC).mkdir(parents=True)  # one topic, no sources.yaml: default mode, no consumers
    if with_warehouse:
        copy_pilot_dbt(repo / "dbt", "northstar_dbt", "northstar_dq")
        # the real repository's reviewed secret-scan finding in dbt/config.py (as test_warehouse_reality.py)
        write_baseline([repo / "dbt" / "config.py"], repo, repo / ".secrets.baseline")
    checker = fake_checker_cmd(root)
    cli = PlatformCli(repo, root / "state", checker, components)
    releases = []
    for version in (1, 2, 3):
        (repo / "airflow" / "dags" / "sales_daily.py").write_text(GOOD_DAG.format(dag_id="sales_daily",
                                                                                  version=version))
        (repo / NEW_TOPIC / f"v{version}.avsc").write_text(_schema(version))
        acks: tuple[str, ...] = ()
        if with_warehouse:
            sql = repo / MART_SQL
            sql.write_text(sql.read_text().replace(COUNTS[0] if version == 1 else COUNTS[version - 2],
                                                   COUNTS[version - 1], 1))
            acks = ("--ack-breaking", MART) if version > 1 else ()
        commit(repo, f"fault matrix v{version}")
        releases.append(cli.json("build", *acks)["release"]["id"])
    v1, v2, v3 = releases
    platform = Platform(root, repo, cli, releases, with_warehouse, root / "template")
    cli("deploy", v1, "--env", "dev")
    platform.tables[(v1, "dev")] = platform.env_tables("dev")
    cli("promote", v1, "--to", "prod")
    platform.tables[(v1, "prod")] = platform.env_tables("prod")
    cli("deploy", v2, "--env", "dev")
    platform.tables[(v2, "dev")] = platform.env_tables("dev")
    shutil.copytree(cli.state_dir, platform.template, symlinks=True)
    # Reference run from the baseline: the tables every other (release, env) pair the matrix can reach has when that
    # release is live and verified there. Then the baseline is put back.
    cli("promote", v2, "--to", "prod")
    platform.tables[(v2, "prod")] = platform.env_tables("prod")
    cli("deploy", v3, "--env", "dev")
    platform.tables[(v3, "dev")] = platform.env_tables("dev")
    platform.reset()
    return platform


def inconsistencies(platform: Platform, *, allow_running: bool = False) -> tuple[list[str], dict[str, str | None]]:
    """What makes the platform inconsistent now, and the recorded live release per env.

    Inconsistent: an artifact whose actual state (``status --actual``, the real CLI) differs from the recorded one, a
    deployment left ``running`` (unless ``allow_running``: nothing ran since the kill), an audit chain or state table
    that does not verify (``verify_state``, what ``audit verify`` runs), a warehouse env whose tables are not those
    its recorded release had while live and verified."""
    cli = platform.cli
    problems = []
    status = cli.json("status", "--actual")
    live: dict[str, str | None] = {}
    for env, doc in status["environments"].items():
        live[env] = doc["live_release"]
        for key, art in doc["artifacts"].items():
            if art["actual"] != art["sha256"]:
                problems.append(f"{env} {key}: recorded {art['sha256'][:12]} ({art['release_id']}), actual "
                                f"{str(art['actual'])[:60]}, on disk {str(art['on_disk'])[:12]}")
        last = doc["last_deployment"]  # the killed run's row is always its env's newest
        if last and last["status"] == "running" and not allow_running:
            problems.append(f"{env} deployment #{last['id']} still running")
        if platform.with_warehouse and platform.env_tables(env) != platform.tables[(doc["live_release"], env)]:
            problems.append(f"{env} warehouse_project:tables: not those of {doc['live_release']} (verified)")
    verified = verify_state(open_store(None, platform.state))
    if not verified.ok:
        problems.append(f"audit verify: {verified.problem}")
    return problems, live


def component_commands() -> dict[str, str]:
    """The real component entry points the platform needs (Pants provides the PEXes; locally: dist/entrypoints)."""
    out = {}
    for entry in ("infra_check", "warehouse"):
        var = env_var_for(entry)
        value = os.environ.get(var) or str(REPO / "dist" / "entrypoints" / f"{entry}.pex")
        path = Path(value.split()[0])
        out[var] = str(path.resolve()) if path.exists() else value
    return out
