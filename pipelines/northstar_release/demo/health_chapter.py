"""Chapter (f): a release that passes every gate but regresses a pipeline in prod is detected by the scheduled
``./release health watch`` and rolled back automatically (prod's ``health.auto_rollback``); the dashboard is written.

Why a DAG-only side repository and its own state (``<work dir>/health``), not the demo's clone: the regression is in
what the pipeline does once live, not in its code's gates, so the warehouse and Spark steps the clone would repeat
(minutes) show nothing here. The side repository holds this checkout's ``orders_daily`` DAG and environments file
(prod's real policy: approval, gates, ``health: {auto_rollback: true}``); one DAG keeps each DagBag check and
verification to seconds. Every action still goes through the real ``./release``.

Prod's run history is real Airflow: ``pipelines/northstar_health_fixtures:airflow_history`` (a PEX in Airflow's
resolve) runs ``orders_daily`` with ``dag.test()`` into prod's metadata DB (``<state>/envs/prod/airflow/airflow.db``).
Each run rebuilds the table ``fct_orders`` and pushes its SQL profile (rows, null rate, duplicate keys, data lag) as
the XCom ``northstar_data``. Before the deploy: 8 runs of about 1000 rows; after it: 4 runs of about 100 rows, none
failing -- the kind of regression no gate saw (the change passed dev, staging and prod's gates).
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING

from northstar_release.cli_driver import APPROVER, ONCALL, ReleaseCli, commit_all, git
from northstar_release.demo.edits import DEMO_AUTHOR
from northstar_release.demo.errors import AdapterNotAvailable, StepFailed

if TYPE_CHECKING:
    from northstar_release.demo.core import Demo

DAG_ID = "orders_daily"
DAG_FILE = "airflow/dags/orders_daily.py"
MODEL = "fct_orders"
BEFORE = (1000, 1040, 975, 1012, 990, 1030, 960, 1008)  # a normal day's jitter, +-4 %
AFTER = (100, 97, 103, 99)  # the regression: a tenth of the rows
FIXTURE_TARGET = "pipelines/northstar_health_fixtures:airflow_history"


def side_repo(origin: Path, root: Path, env: dict[str, str]) -> Path:
    """A git repository holding ``orders_daily`` and the environments file of ``origin``, committed as v1. Its
    pipeline catalog folder is empty: ``orders_daily`` runs no catalog pipeline, and the full catalog names DAGs this
    repository does not ship (the DagBag check would refuse it); the dashboard then shows no SLA columns."""
    repo = root / "repo"
    for rel in (DAG_FILE, "pipelines/environments.yaml"):
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / rel).write_bytes((origin / rel).read_bytes())
    catalog = repo / "pipelines" / "catalog" / "pipelines"
    catalog.mkdir(parents=True)
    (catalog / "README.md").write_text("No catalog pipeline runs in this demo side repository (./release demo (f)).\n")
    git(repo, "init", "-q", "-b", "main")
    commit_all(repo, "v1: orders_daily", DEMO_AUTHOR, env)
    return repo


def fixture_pex(origin: Path) -> Path:
    """The Airflow history PEX: NORTHSTAR_AIRFLOW_HISTORY_PEX, else ``dist/entrypoints`` of the checkout, built
    there with ``./pants package`` on first use (the airflow resolve is the one dagbag-check already uses)."""
    configured = os.environ.get("NORTHSTAR_AIRFLOW_HISTORY_PEX")
    if configured:
        if not Path(configured).is_file():
            raise AdapterNotAvailable(f"NORTHSTAR_AIRFLOW_HISTORY_PEX={configured}: no such file")
        return Path(configured).absolute()
    pex = origin / "dist" / "entrypoints" / "airflow_history.pex"
    if not pex.is_file():
        proc = subprocess.run(["./pants", "package", FIXTURE_TARGET], cwd=origin, capture_output=True, text=True,
                              stdin=subprocess.DEVNULL)
        if proc.returncode != 0 or not pex.is_file():
            raise AdapterNotAvailable(f"./pants package {FIXTURE_TARGET} failed (exit {proc.returncode}): "
                                      f"{proc.stderr.strip()[-400:]}")
    return pex


def airflow_runs(pex: Path, home: Path, counts: tuple[int, ...], label: str) -> list[str]:
    """One real ``orders_daily`` run per count, each rebuilding ``fct_orders`` with that many rows; their states."""
    home.mkdir(parents=True, exist_ok=True)
    spec = home.parent / f"runs-{label}.json"
    spec.write_text(json.dumps({"steps": [
        {"dag_id": DAG_ID, "table": {"model": MODEL, "rows": n, "null_every": 50, "lag_s": 20}} for n in counts]}))
    proc = subprocess.run([str(pex), str(spec), str(home)], capture_output=True, text=True, timeout=900)
    if proc.returncode != 0:
        raise StepFailed(f"airflow_history exit {proc.returncode}: {proc.stderr.strip()[-600:]}")
    runs = json.loads(proc.stdout.strip().splitlines()[-1])["runs"]
    return [str(r["state"]) for r in runs]


def _ship(cli: ReleaseCli, rid: str) -> str:
    """dev -> staging -> approval -> prod; the gates each env ran, as one line."""
    gates: list[str] = []
    for args, actor in ((("deploy", rid, "--env", "dev"), None), (("promote", rid, "--to", "staging"), None),
                        (("approve", rid, "--env", "prod"), APPROVER), (("promote", rid, "--to", "prod"), None)):
        call = cli.call(*args, actor=actor)
        doc = call.doc or {}
        if call.exit_code != 0:
            raise StepFailed(f"./release {' '.join(args)}: {call.describe_failure()}")
        passed = [g for g in doc.get("gate_results") or [] if isinstance(g, dict) and g.get("outcome") == "passed"]
        if args[0] != "approve":
            gates.append(f"{args[-1]} {len(passed)} gate(s) passed")
    return ", ".join(gates)


def chapter_f(d: Demo) -> None:
    d.chapter("(f) a release passes every gate but regresses a pipeline in prod: the health watch rolls it back")
    root = d.workdir / "health"
    outcome = d.report.health
    env = {**d.env, "NORTHSTAR_STATE_DIR": str(root / "state")}
    pex = Path()
    repo = Path()
    cli = ReleaseCli(d.clone, env, release=d.release, actor=DEMO_AUTHOR, on_stderr=d.sub)
    v1 = v2 = ""
    with d.step("f1 DAG repository + real Airflow", "a DAG-only repository, its own state, Airflow's fixture PEX") as s:
        pex = fixture_pex(d.origin)
        repo = side_repo(d.origin, root, env)
        cli = ReleaseCli(repo, env, release=d.release, actor=DEMO_AUTHOR, on_stderr=d.sub)
        s.result = f"{repo} (state {root / 'state'}); Airflow runs by {pex.name}"
    if not pex.is_file() or not (repo / DAG_FILE).is_file():
        raise StepFailed("no side repository or no Airflow fixture: nothing else in this chapter can run")
    with d.step("f2 v1 -> prod, then 8 real runs", f"{DAG_ID} loads ~1000 rows per run (+-4 %)") as s:
        built = str(cli.must("build")["release"]["id"])
        line = _ship(cli, built)
        v1 = built
        states = airflow_runs(pex, root / "state" / "envs" / "prod" / "airflow", BEFORE, "before")
        s.result = f"{v1}: {line}; runs {states.count('success')}/{len(states)} succeeded"
    if not v1:
        raise StepFailed("no v1 in prod: the watch has nothing to roll back to")
    with d.step("f3 v2 passes every gate into prod", "dev, staging, approval, prod: all gates pass") as s:
        path = repo / DAG_FILE
        path.write_text(path.read_text() + "\n# v2: the new filter (a tenth of the orders survive it in prod)\n")
        commit_all(repo, "v2: orders_daily filter", DEMO_AUTHOR, env)
        built = str(cli.must("build")["release"]["id"])
        line = _ship(cli, built)
        v2 = built
        s.result = f"{v2}: {line}"
    if not v2:
        raise StepFailed("v2 did not reach prod")
    with d.step("f4 4 real runs after the deploy", "no run fails; each loads ~100 rows") as s:
        states = airflow_runs(pex, root / "state" / "envs" / "prod" / "airflow", AFTER, "after")
        if states != ["success"] * len(AFTER):
            raise StepFailed(f"run states {states}")
        s.result = f"{len(states)} runs succeeded; rows {', '.join(map(str, AFTER))}"
    with d.step("f5 health watch --env prod", f"regression in {DAG_ID} rows[{MODEL}]; prod rolled back to v1") as s:
        call = cli.call("health", "watch", "--env", "prod", actor=ONCALL)
        doc = call.doc or {}
        outcome.watch_command_s = round(call.seconds, 3)
        outcome.regressions = [f"{v['pipeline']} {v['metric']}: {v['detail']}" for v in doc.get("regressions") or []]
        rollback = doc.get("rollback") or {}
        outcome.rolled_back_to = rollback.get("release_id")
        outcome.detection_to_rollback_s = rollback.get("detection_to_rollback_s")
        if call.exit_code != 1 or doc.get("status") != "rolled_back" or outcome.rolled_back_to != v1:
            raise StepFailed(f"expected exit 1, rolled back to {v1}: {call.describe_failure()}, status "
                             f"{doc.get('status')}, rollback {rollback.get('status')} -> {outcome.rolled_back_to}")
        if not any(f"{DAG_ID} rows[{MODEL}]" in r for r in outcome.regressions):
            raise StepFailed(f"the regressions found are not the row drop: {outcome.regressions}")
        live = cli.must("status", "--env", "prod")["environments"]["prod"].get("live_release")
        if live != v1:
            raise StepFailed(f"prod runs {live} after the rollback, expected {v1}")
        s.result = (f"{'; '.join(outcome.regressions)}; rolled back to {v1} (detection -> rollback "
                    f"{outcome.detection_to_rollback_s} s, watch command {call.seconds:.1f} s); prod runs {live}")
    with d.step("f6 audit + dashboard", "health.regression and health.rollback audited; HTML dashboard written") as s:
        entries = cli.must("audit", "export", v2)
        actions = [e.get("action") for e in entries.get("audit_entries") or [] if isinstance(e, dict)]
        missing = [a for a in ("health.regression", "health.rollback") if a not in actions]
        if missing:
            raise StepFailed(f"audit export of {v2} lacks {', '.join(missing)} (has {sorted(set(map(str, actions)))})")
        out = root / "dashboard.html"
        doc = cli.must("health", "dashboard", "--env", "prod", "--out", str(out))
        page = Path(str(doc.get("dashboard")))
        if not page.is_file() or DAG_ID not in page.read_text():
            raise StepFailed(f"dashboard {page} missing or without {DAG_ID}")
        outcome.dashboard = str(page)
        d.say(f"  dashboard written: {page}")
        s.result = f"audit: health.regression, health.rollback; dashboard {page} ({page.stat().st_size // 1024} KiB)"
