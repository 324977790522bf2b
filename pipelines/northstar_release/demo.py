"""``./release demo``: the whole release story on one machine, through the real ``./release`` CLI.

In a temporary clone of this checkout (at its HEAD), with the release state inside the demo's work dir and the policy
clock pinned outside prod's freeze window, it narrates and runs:

  (a) release v1 of everything -> dev -> staging -> approval by a second user (not the author) -> prod;
  (b) a good change (a new column on a mart, a change to the daily_revenue Spark job) committed in the clone, built
      and promoted to prod, with the warehouse deploy evidence showing 0 rows recomputed at each promotion;
  (c) a bad change (a failing data test on the finance mart, a DAG with an import error) built and deployed to dev,
      which must be BLOCKED (exit 1) with the gate evidence shown; prod's warehouse row counts and table checksums are
      read before and after and must be identical;
  (d) a timed rollback of prod to v1 (wall seconds, and the engine/component split the CLI reports) with 0 rows
      recomputed;
  (e) ``audit verify`` (must pass) and ``audit export`` as Markdown into the work dir.

Why subprocesses of the ORIGINAL checkout's ``./release`` with cwd = the clone: the demo must prove what a user gets
(the wrapper's set-up, argument parsing, exit codes, ``--json`` documents), while the commits it makes for (b) and (c)
must never touch the user's working tree. Every expectation is checked from the CLI's own JSON output or from the
component entry points' JSON (prod table fingerprints come from the ``warehouse`` entry point through
``SubprocessComponentRunner``), never assumed: a step whose evidence cannot be obtained -- e.g. an artifact kind whose
adapter is not registered yet -- is reported as failed ("adapter not available"), so the demo exits 0 only if every
expectation really held. Exit codes: 0 all held, 1 some did not, 2 usage/set-up error (no commits, work dir in use,
clone or tool set-up failed).

Progress goes to stderr (one line per step and per CLI progress line, with elapsed seconds); the summary table goes to
stdout, or with ``as_json`` to stderr while stdout carries exactly one JSON document.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from northstar_release.cli_driver import (
    APPROVER,
    ONCALL,
    OUTSIDE_FREEZE,
    RELEASE,
    REPO,
    CliCall,
    CommandFailed,
    ReleaseCli,
    commit_all,
    git,
)

DEMO_AUTHOR = "dev@northstar.example"  # commits (b) and (c); the release author
PROD_ROLLBACK_BUDGET_S = 10.0  # the "Done when": whole-platform prod rollback <= 10 s wall on 2 cores
WAREHOUSE_KIND, SPARK_KIND = "warehouse_project", "spark_job"  # the kinds the demo's edits (b) change

# The files the demo edits in its clone (relative to the repo root).
GOOD_MART = "dbt/models/marts/fct_orders.sql"
SPARK_JOB = "spark/northstar_spark/jobs/daily_revenue.py"
FINANCE_MART = "dbt/models/marts/fct_daily_revenue.sql"
MART_SCHEMA = "dbt/models/marts/schema.yml"
BROKEN_DAG = "airflow/dags/orders_export.py"
BAD_COLUMN = "refunded_amount"

# A typo in an import from a package Pants does know (so the release still builds); importing the DAG file fails,
# which is exactly what the dag_integrity gate (Airflow's DagBag) must catch before dev.
BROKEN_DAG_SOURCE = '''"""Orders export (the demo's bad change): a typo in an import, so the DagBag must reject this file."""

from datetime import datetime, timedelta

from airflow import DAG
from airflow.operators.empty import EmptyOperater

with DAG(dag_id="orders_export", start_date=datetime(2024, 1, 1), schedule="0 4 * * *", catchup=False,
         tags=["orders"], default_args={"owner": "data-platform", "retries": 1,
                                        "retry_delay": timedelta(minutes=5)}) as dag:
    EmptyOperater(task_id="export")
'''


# The demo is self-contained: state, warehouse and environments come from its work dir and clone, never from the
# caller's shell (a shared PostgreSQL state or warehouse must not receive demo releases).
HERMETIC_UNSET = ("NORTHSTAR_STATE_URL", "NORTHSTAR_ENVIRONMENTS", "NORTHSTAR_TEST_PAUSE_AT", "NORTHSTAR_WAREHOUSE_DIR",
                  "NORTHSTAR_SQLMESH_STATE_URL", "NORTHSTAR_ACTOR")


class DemoSetupError(Exception):
    """Usage or set-up problem: the demo cannot start (exit 2)."""


class AdapterNotAvailable(Exception):
    """The evidence a step needs comes from an artifact kind / entry point that is not available (yet)."""


class StepFailed(Exception):
    """A step's expectation did not hold; the message is the step's result."""


# ----------------------------------------------------------------------------------------------- records/report ---
@dataclass
class StepRecord:
    step: str
    expected: str
    result: str = ""
    ok: bool = False
    seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {"step": self.step, "expected": self.expected, "result": self.result, "ok": self.ok,
                "seconds": round(self.seconds, 3)}


@dataclass
class RollbackTiming:
    seconds: float | None = None  # wall time of the `./release rollback` process
    engine_s: float | None = None
    component_s: float | None = None
    rows_recomputed: int | None = None  # None: no warehouse evidence (adapter not available)

    def to_json(self) -> dict[str, Any]:
        return {"seconds": self.seconds, "engine_s": self.engine_s, "component_s": self.component_s,
                "rows_recomputed": self.rows_recomputed}


@dataclass
class DemoReport:
    steps: list[StepRecord] = field(default_factory=list)
    rollback: RollbackTiming = field(default_factory=RollbackTiming)
    prod_tables_unchanged: bool = False
    workdir: str | None = None
    error: str | None = None  # set for usage/set-up errors (exit 2)

    @property
    def ok(self) -> bool:
        return self.error is None and bool(self.steps) and all(s.ok for s in self.steps)

    def exit_code(self) -> int:
        if self.error is not None:
            return 2
        return 0 if self.ok else 1

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"ok": self.ok, "steps": [s.to_json() for s in self.steps],
                               "rollback": self.rollback.to_json(),
                               "prod_tables_unchanged": self.prod_tables_unchanged, "workdir": self.workdir}
        if self.error is not None:
            doc["error"] = self.error
            doc["exit_code"] = 2
        return doc


def summary_table(report: DemoReport) -> Table:
    table = Table(title="release demo: summary")
    table.add_column("step")
    table.add_column("expected")
    table.add_column("result")
    table.add_column("seconds", justify="right")
    for s in report.steps:
        mark = "[green]ok[/]" if s.ok else "[red]FAILED[/]"
        table.add_row(s.step, s.expected, f"{mark} {_escape(s.result)}", f"{s.seconds:.1f}")
    return table


def render(report: DemoReport, *, as_json: bool, out: Console, err: Console) -> None:
    """The ending: the summary table (stdout, or stderr under --json) and, with --json, exactly one JSON document."""
    if report.error is not None:
        err.print(f"[bold red]ERROR[/]: {_escape(report.error)}", highlight=False)
    if report.steps:
        (err if as_json else out).print(summary_table(report))
        verdict = "every expectation held" if report.ok else \
            f"{sum(not s.ok for s in report.steps)} expectation(s) did not hold"
        err.print(f"demo: {verdict}; work dir {report.workdir}", highlight=False, markup=False)
    if as_json:
        out.file.write(json.dumps(report.to_json(), indent=2, sort_keys=True) + "\n")
        out.file.flush()


def _console(*, stderr: bool) -> Console:
    """Rich console; when not a terminal (CI logs, pipes) wide enough that the summary table stays readable."""
    stream = sys.stderr if stderr else sys.stdout
    width = None if stream.isatty() else int(os.environ.get("COLUMNS", "0") or 0) or 200
    return Console(stderr=stderr, soft_wrap=True, width=width)


def _escape(text: str) -> str:
    return text.replace("[", r"\[")


# ------------------------------------------------------------------------------------------ evidence extraction ---
def find_values(obj: Any, key: str) -> list[Any]:
    """Every value stored under ``key`` anywhere in a JSON document."""
    found: list[Any] = []
    if isinstance(obj, dict):
        for k, v in obj.items():
            if k == key:
                found.append(v)
            found += find_values(v, key)
    elif isinstance(obj, list):
        for v in obj:
            found += find_values(v, key)
    return found


def rows_recomputed(doc: Any) -> int | None:
    """Sum of every integer ``rows_recomputed`` in a document; None when the document carries no such evidence."""
    values = [v for v in find_values(doc, "rows_recomputed") if isinstance(v, int) and not isinstance(v, bool)]
    return sum(values) if values else None


def deployment_audit_entries(export_doc: Mapping[str, Any], deployment_id: int | None) -> list[dict[str, Any]]:
    return [e for e in export_doc.get("audit_entries", [])
            if deployment_id is not None and (e.get("payload") or {}).get("deployment_id") == deployment_id]


def failed_gates(doc: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [g for g in doc.get("gate_results") or [] if g.get("outcome") == "failed"]


def gate_line(g: Mapping[str, Any]) -> str:
    return f"{g.get('gate')} [{g.get('target')}]: {g.get('summary')}"


def table_fingerprints(payload: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Normalise the warehouse entry point's ``tables`` answer to {table: {"rows": n, "checksum": s}}.

    Accepts ``{"tables": {name: {...}}}`` or ``{"tables": [{"name"|"table": ..., ...}]}``; the checksum key may be
    ``checksum`` or ``sha256``, the row count ``rows`` or ``row_count``.
    """
    tables = payload.get("tables")
    items: list[tuple[str, Mapping[str, Any]]] = []
    if isinstance(tables, dict):
        items = [(str(k), v) for k, v in tables.items() if isinstance(v, Mapping)]
    elif isinstance(tables, list):
        items = [(str(t.get("name") or t.get("table")), t) for t in tables if isinstance(t, Mapping)]
    out = {}
    for name, t in items:
        rows = t.get("rows", t.get("row_count"))
        checksum = t.get("checksum", t.get("sha256"))
        out[name] = {"rows": rows, "checksum": checksum}
    return dict(sorted(out.items()))


def fingerprints_line(fp: Mapping[str, Mapping[str, Any]]) -> str:
    return ", ".join(f"{name}: {t['rows']} rows #{str(t['checksum'])[:10]}" for name, t in fp.items()) or "no tables"


# ---------------------------------------------------------------------------------------------- clone edits ---
def _replace_once(text: str, old: str, new: str, path: str) -> str:
    if text.count(old) != 1:
        raise StepFailed(f"cannot apply the demo's edit to {path}: expected exactly one {old.strip()[:60]!r}")
    return text.replace(old, new)


def add_mart_column(sql: str) -> str:
    """Good change: fct_orders gains ``payment_count`` (an added column: a non-breaking change)."""
    return _replace_once(sql, "as amount\nfrom", "as amount,\n    count(p.payment_id) as payment_count\nfrom", GOOD_MART)


def change_spark_job(source: str) -> str:
    """Good change: status matching tolerates padded values; OUTPUT_SCHEMA and the fixture's results stay the same."""
    return _replace_once(source, 'F.lower(F.col("status"))', 'F.lower(F.trim(F.col("status")))', SPARK_JOB)


def add_failing_finance_column(sql: str) -> str:
    """Bad change: fct_daily_revenue gains a column that is always NULL (the join that would fill it is missing)."""
    return _replace_once(sql, "as revenue\nfrom",
                         f"as revenue,\n    cast(null as decimal(18, 2)) as {BAD_COLUMN}\nfrom", FINANCE_MART)


def add_failing_finance_test(schema_yml: str) -> str:
    """Bad change: a not_null data test on the new finance column, which fails on every row."""
    anchor = "      - name: revenue\n        data_tests: [not_null]\n"
    return _replace_once(schema_yml, anchor, anchor + f"      - name: {BAD_COLUMN}\n"
                         "        description: \"Refunds per day (the demo's bad change: always NULL)\"\n"
                         "        data_tests: [not_null]\n", MART_SCHEMA)


def edit(repo: Path, rel: str, fn: Callable[[str], str]) -> None:
    path = repo / rel
    path.write_text(fn(path.read_text()))


# ------------------------------------------------------------------------------------------------------- demo ---
class Demo:
    """One run. ``origin`` is the checkout to clone (its HEAD) and whose ``./release`` drives the clone."""

    def __init__(self, *, as_json: bool, keep: bool, workdir: Path | None, origin: Path = REPO,
                 release: Path = RELEASE, err: Console | None = None, out: Console | None = None) -> None:
        self.as_json, self.keep, self.origin, self.release = as_json, keep, origin, release
        self.requested_workdir = workdir
        self.err = err or _console(stderr=True)
        self.out = out or _console(stderr=False)
        self.report = DemoReport()
        self.t0 = time.monotonic()
        self.step_t0 = self.t0
        self.workdir: Path = Path()
        self.clone: Path = Path()
        self.env: dict[str, str] = {}
        self.cli: ReleaseCli | None = None
        self.artifacts: dict[str, dict[str, str]] = {}  # release id -> {"kind:name": sha256} (status's keys)
        self.v1 = self.good = self.bad = ""

    # -- narration ---------------------------------------------------------------------------------------------------
    def say(self, text: str, style: str = "") -> None:
        stamp = f"[{time.monotonic() - self.t0:7.1f}s]"
        self.err.print(f"{stamp} {text}", style=style or None, highlight=False, markup=False)

    def sub(self, line: str) -> None:
        if line.strip():
            self.err.print(f"           +{time.monotonic() - self.step_t0:5.1f}s   {line}", style="dim",
                           highlight=False, markup=False)

    def chapter(self, title: str) -> None:
        self.err.print("")
        self.say(title, style="bold")

    @contextmanager
    def step(self, name: str, expected: str) -> Iterator[StepRecord]:
        """Run one step: its body sets ``result``; ``ok`` becomes True unless it raises. Always recorded."""
        record = StepRecord(step=name, expected=expected)
        self.step_t0 = time.monotonic()
        self.say(f"> {name}: expect {expected}")
        try:
            yield record
            record.ok = True
        except AdapterNotAvailable as exc:
            record.result = f"adapter not available: {exc}"
        except (StepFailed, CommandFailed) as exc:
            record.result = str(exc)
        except DemoSetupError as exc:
            record.result = str(exc)
            raise
        except Exception as exc:  # unexpected output must still end in a summary (and one JSON document)
            record.result = f"error: {type(exc).__name__}: {exc}"
        finally:
            record.seconds = time.monotonic() - self.step_t0
            self.report.steps.append(record)
            mark = "ok " if record.ok else "FAILED"
            self.say(f"  {mark} {name}: {record.result} ({record.seconds:.1f}s)",
                     style="green" if record.ok else "red")

    # -- CLI ---------------------------------------------------------------------------------------------------------
    @property
    def rel(self) -> ReleaseCli:
        assert self.cli is not None
        return self.cli

    def must(self, *args: str, actor: str | None = None) -> dict[str, Any]:
        return self.rel.must(*args, actor=actor)

    def call(self, *args: str, actor: str | None = None) -> CliCall:
        return self.rel.call(*args, actor=actor)

    # -- main --------------------------------------------------------------------------------------------------------
    def run(self) -> int:
        try:
            self.setup()
        except DemoSetupError as exc:
            self.report.error = str(exc)
            self.finish()
            return 2
        try:
            self.chapter_a()
        except StepFailed as exc:  # no v1 in prod: nothing else can be shown
            self.say(f"stopping: {exc}", style="red")
        else:
            for chapter in (self.chapter_b, self.chapter_c, self.chapter_d, self.chapter_e):
                try:
                    chapter()
                except StepFailed as exc:  # a step the rest of this chapter depends on failed; go on with the next
                    self.say(f"skipping the rest of this chapter: {exc}", style="red")
        finally:
            self.cleanup()
        self.finish()
        return self.report.exit_code()

    def finish(self) -> None:
        render(self.report, as_json=self.as_json, out=self.out, err=self.err)

    # -- set-up ------------------------------------------------------------------------------------------------------
    def setup(self) -> None:
        self.chapter("set-up: a throwaway clone, its own release state, a pinned policy clock")
        head = subprocess.run(["git", "-C", str(self.origin), "rev-parse", "--verify", "-q", "HEAD^{commit}"],
                              capture_output=True, text=True)
        if head.returncode != 0:
            raise DemoSetupError(f"{self.origin} has no commits (or is not a git checkout): the demo clones HEAD; "
                                 "commit first")
        sha = head.stdout.strip()
        if self.requested_workdir is not None:
            self.workdir = self.requested_workdir.absolute()
            for sub in ("clone", "state"):
                if (self.workdir / sub).exists():
                    raise DemoSetupError(f"work dir {self.workdir} already holds {sub}/ from an earlier run; "
                                         "pass an empty or new --workdir")
            self.workdir.mkdir(parents=True, exist_ok=True)
        else:
            self.workdir = Path(tempfile.mkdtemp(prefix="northstar-demo-"))
        self.report.workdir = str(self.workdir)
        self.clone = self.workdir / "clone"

        with self.step("setup: release tool", "./release sets itself up (tools venv, entry points)") as s:
            proc = subprocess.run([str(self.release), "--help"], cwd=self.origin, capture_output=True, text=True)
            if proc.returncode != 0:
                raise DemoSetupError(f"./release set-up failed (exit {proc.returncode}): {proc.stderr.strip()[-800:]}")
            s.result = f"ready ({self.release})"

        with self.step("setup: clone", f"a clone of {self.origin} at HEAD {sha[:12]}") as s:
            proc = subprocess.run(["git", "clone", "-q", "--no-checkout", str(self.origin), str(self.clone)],
                                  capture_output=True, text=True)
            if proc.returncode != 0:
                raise DemoSetupError(f"git clone failed: {proc.stderr.strip()}")
            try:
                git(self.clone, "checkout", "-q", "-B", "demo", sha)
            except CommandFailed as exc:
                raise DemoSetupError(f"git checkout in the clone failed: {exc}") from exc
            s.result = f"{self.clone} on branch demo at {sha[:12]}"

        self.env = self.subprocess_env()
        with self.step("setup: policy clock", "NORTHSTAR_NOW outside every prod freeze window") as s:
            s.result = self.check_clock()
        self.cli = ReleaseCli(self.clone, self.env, release=self.release, actor=DEMO_AUTHOR, on_stderr=self.sub)

    def subprocess_env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in HERMETIC_UNSET}
        env["NORTHSTAR_STATE_DIR"] = str(self.workdir / "state")
        env["NORTHSTAR_NOW"] = OUTSIDE_FREEZE
        env["NORTHSTAR_RELEASE_NO_SETUP"] = "1"  # set up once above, against the original checkout
        # Component entry points come from the original checkout's dist/ (the clone has no build outputs).
        for pex in sorted((self.origin / "dist" / "entrypoints").glob("*.pex")):
            var = "NORTHSTAR_ENTRYPOINT_" + pex.stem.upper().replace("-", "_").replace(".", "_")
            env.setdefault(var, str(pex))
        return env

    def check_clock(self) -> str:
        import yaml

        from northstar_release import policy
        from northstar_release.environments import parse_environments

        # The CLI validates gate names against ITS gate registry; here only the freeze windows matter.
        path = self.clone / "pipelines" / "environments.yaml"
        data = yaml.safe_load(path.read_text())
        named = {g for e in ((data or {}).get("environments") or {}).values() if isinstance(e, dict)
                 for g in (e.get("gates") or [])}
        envs = parse_environments(data, path, named)
        now = policy.now_utc({"NORTHSTAR_NOW": OUTSIDE_FREEZE})
        frozen = [f"{e.name} {w.start}-{w.end}" for e in envs.values() if (w := policy.active_freeze(e, now))]
        if frozen:
            raise StepFailed(f"NORTHSTAR_NOW={OUTSIDE_FREEZE} falls in a freeze window: {', '.join(frozen)}")
        windows = [f"{e.name} {w.start}-{w.end} UTC" for e in envs.values() for w in e.freeze_windows]
        return (f"NORTHSTAR_NOW={OUTSIDE_FREEZE} (freeze windows: {', '.join(windows) or 'none'}); "
                "every deployment's audit entry records clock.override")

    def cleanup(self) -> None:
        if self.keep:
            self.say(f"kept for inspection: clone {self.clone}, state {self.workdir / 'state'} "
                     f"(NORTHSTAR_STATE_DIR={self.workdir / 'state'})")
            return
        for sub in (self.clone, self.workdir / "state"):
            shutil.rmtree(sub, ignore_errors=True)
        self.say(f"removed the clone and its state (pass --keep to inspect them); evidence stays in {self.workdir}")

    # -- shared step bodies ------------------------------------------------------------------------------------------
    def kinds(self, rid: str) -> set[str]:
        return {key.split(":", 1)[0] for key in self.artifacts.get(rid, {})}

    def build(self, label: str) -> str:
        doc = self.must("build")
        release = doc["release"]
        self.artifacts[release["id"]] = {f"{a['kind']}:{a['name']}": a["sha256"] for a in release["artifacts"]}
        return str(release["id"])

    def promote(self, rid: str, env: str, *, action: str = "promote", expect_zero: bool = False) -> str:
        """deploy/promote ``rid`` into ``env``; return a result line naming rows recomputed (from deploy evidence)."""
        args = ["deploy", rid, "--env", env] if action == "deploy" else ["promote", rid, "--to", env]
        call = self.call(*args)
        doc = call.doc or {}
        if call.exit_code != 0 or doc.get("status") not in ("succeeded", "noop"):
            raise StepFailed(f"{action} {rid} -> {env}: {call.describe_failure()}")
        rows = self.rows_for(rid, doc)
        has_wh = WAREHOUSE_KIND in self.kinds(rid)
        result = f"{doc.get('status')} (deployment #{doc.get('deployment_id')}, {call.seconds:.1f}s)"
        if expect_zero:
            if not has_wh:
                raise AdapterNotAvailable(f"{result}, but the release has no {WAREHOUSE_KIND} artifact, so no "
                                          "warehouse deploy evidence (rows recomputed) exists")
            if rows is None:
                raise StepFailed(f"{result}, but the warehouse deploy evidence names no rows_recomputed")
            if rows != 0:
                raise StepFailed(f"{result}, but {rows} rows were recomputed (expected 0: a virtual update)")
        if has_wh:
            result += f"; rows recomputed: {rows if rows is not None else 'not reported'}"
        return result

    def rows_for(self, rid: str, doc: Mapping[str, Any]) -> int | None:
        """Rows recomputed by the warehouse switch of one deployment: a structured ``rows_recomputed`` in the CLI's
        JSON or in that deployment's audit entries, else the warehouse adapter's switch message."""
        rows = rows_recomputed(doc)
        if rows is not None or WAREHOUSE_KIND not in self.kinds(rid):
            return rows
        export = self.must("audit", "export", rid)
        rows = rows_recomputed(deployment_audit_entries(export, doc.get("deployment_id")))
        return rows

    def approve(self, rid: str) -> str:
        author = self.must("show", rid)["release"]["author"]
        approver = APPROVER if author != APPROVER else ONCALL
        refused = self.call("approve", rid, "--env", "prod", actor=author)
        if refused.exit_code != 1:
            raise StepFailed(f"the author {author} was not refused (exit {refused.exit_code}); expected exit 1")
        doc = self.must("approve", rid, "--env", "prod", "--comment", "demo: reviewed", actor=approver)
        if not doc.get("satisfied"):  # e.g. a finance-tagged release needs a second approver
            doc = self.must("approve", rid, "--env", "prod", "--comment", "demo: second reviewer", actor=ONCALL)
        if not doc.get("satisfied"):
            raise StepFailed(f"approvals not satisfied: {doc.get('counted')} of {doc.get('required')}")
        return (f"author {author} refused (exit 1); approved by {', '.join(doc.get('counted') or [])} "
                f"({len(doc.get('counted') or [])}/{doc.get('required')})")

    def live(self, env: str) -> dict[str, Any]:
        return self.must("status", "--env", env)["environments"][env]

    def check_live(self, env: str, rid: str) -> str:
        state = self.live(env)
        if state.get("live_release") != rid:
            raise StepFailed(f"{env} runs {state.get('live_release')}, expected {rid}")
        expected = self.artifacts.get(rid, {})
        live = state.get("artifacts") or {}
        wrong = [f"{kind} live {str(live.get(kind, {}).get('sha256'))[:12]} on disk "
                 f"{str(live.get(kind, {}).get('on_disk'))[:12]} != {sha[:12]}"
                 for kind, sha in expected.items()
                 if live.get(kind, {}).get("sha256") != sha or live.get(kind, {}).get("on_disk") != sha]
        if wrong:
            raise StepFailed(f"{env} does not run {rid}'s artifacts: {'; '.join(wrong)}")
        return f"{env} runs {rid}: {', '.join(f'{k} {v[:12]}' for k, v in sorted(expected.items()))} (recorded = on disk)"

    def prod_tables(self) -> dict[str, dict[str, Any]]:
        """Row counts and checksums of prod's warehouse tables, from ``./release tables --env prod``."""
        if WAREHOUSE_KIND not in self.kinds(self.v1):
            raise AdapterNotAvailable(f"releases carry no {WAREHOUSE_KIND} artifact (warehouse adapter not "
                                      "registered), so prod has no warehouse tables to fingerprint")
        payload = self.must("tables", "--env", "prod")
        fp = table_fingerprints(payload)
        if not fp:
            raise StepFailed(f"./release tables --env prod listed no tables: {json.dumps(payload)[:300]}")
        return fp

    def registered_kinds(self) -> list[str]:
        """Every artifact kind the release engine registers (``./release kinds``): a release must carry each."""
        return [str(k["kind"]) for k in self.must("kinds")["kinds"]]

    # -- (a) ---------------------------------------------------------------------------------------------------------
    def chapter_a(self) -> None:
        self.chapter("(a) release v1 of everything: dev -> staging -> approval by a second user -> prod")
        with self.step("a1 build v1", "HEAD packaged into content-addressed artifacts") as s:
            self.v1 = self.build("v1")
            s.result = f"{self.v1}: " + ", ".join(f"{k} {v[:12]}" for k, v in sorted(self.artifacts[self.v1].items()))
        if not self.v1:
            raise StepFailed("no v1 release: nothing else can run")
        all_kinds = self.registered_kinds()
        with self.step("a2 artifact kinds", "every registered kind: " + ", ".join(all_kinds)) as s:
            missing = [k for k in all_kinds if k not in self.kinds(self.v1)]
            if missing:
                raise AdapterNotAvailable(", ".join(missing) + " (registered in kinds/registry.py but not packaged); "
                                          f"v1 carries {', '.join(sorted(self.kinds(self.v1)))}")
            s.result = "all four kinds packaged"
        gate_ok = True
        with self.step("a3 v1 -> dev", "gates pass, deployed and verified") as s:
            gate_ok = False
            s.result = self.promote(self.v1, "dev", action="deploy")
            gate_ok = True
        if not gate_ok:
            raise StepFailed("v1 could not enter dev")
        with self.step("a4 v1 -> staging", "promoted unchanged (same digests)") as s:
            s.result = self.promote(self.v1, "staging")
        with self.step("a5 approval for prod", "the author is refused; a second user approves") as s:
            s.result = self.approve(self.v1)
        with self.step("a6 v1 -> prod", "promoted; prod runs v1's digests") as s:
            s.result = self.promote(self.v1, "prod") + "; " + self.check_live("prod", self.v1)
        with self.step("a7 same digests staging/prod", "staging and prod run identical artifact digests") as s:
            staging, prod = self.live("staging"), self.live("prod")
            digests = {k: v["sha256"] for k, v in staging["artifacts"].items()}
            if digests != {k: v["sha256"] for k, v in prod["artifacts"].items()}:
                raise StepFailed(f"staging {staging['artifacts']} != prod {prod['artifacts']}")
            s.result = f"{len(digests)} artifact(s) identical in staging and prod"

    # -- (b) ---------------------------------------------------------------------------------------------------------
    def chapter_b(self) -> None:
        self.chapter("(b) a good change: a new column on a mart + a Spark job change, promoted to prod, 0 recompute")
        with self.step("b1 commit good change", f"edit {GOOD_MART} and {SPARK_JOB}; commit in the clone") as s:
            edit(self.clone, GOOD_MART, add_mart_column)
            edit(self.clone, SPARK_JOB, change_spark_job)
            sha = commit_all(self.clone, "demo: fct_orders.payment_count; daily_revenue trims status", DEMO_AUTHOR,
                             self.env)
            s.result = f"commit {sha[:12]} by {DEMO_AUTHOR}"
        with self.step("b2 build good release", "new digests for the warehouse project and the Spark job") as s:
            self.good = self.build("good")
            changed = sorted(k for k, v in self.artifacts[self.good].items() if self.artifacts[self.v1].get(k) != v)
            s.result = f"{self.good}: changed {', '.join(changed) or 'nothing'}"
            missing = [k for k in (WAREHOUSE_KIND, SPARK_KIND) if k not in self.kinds(self.good)]
            if missing:
                raise AdapterNotAvailable(f"{', '.join(missing)}: the mart and Spark edits are not packaged "
                                          f"({s.result})")
            unchanged = [k for k in (WAREHOUSE_KIND, SPARK_KIND) if not any(c.startswith(k + ":") for c in changed)]
            if unchanged:
                raise StepFailed(f"{s.result}; expected new digests for {', '.join(unchanged)}")
        if not self.good:
            raise StepFailed("the good change could not be built")
        with self.step("b3 good -> dev", "gates pass; the new column and job are built in dev") as s:
            s.result = self.promote(self.good, "dev", action="deploy")
        with self.step("b4 good -> staging", "promoted; 0 rows recomputed (virtual update)") as s:
            s.result = self.promote(self.good, "staging", expect_zero=True)
        with self.step("b5 approval for prod", "the author is refused; a second user approves") as s:
            s.result = self.approve(self.good)
        with self.step("b6 good -> prod", "promoted; 0 rows recomputed; prod runs the good release") as s:
            s.result = self.promote(self.good, "prod", expect_zero=True) + "; " + self.check_live("prod", self.good)

    # -- (c) ---------------------------------------------------------------------------------------------------------
    def chapter_c(self) -> None:
        self.chapter("(c) a bad change: a failing data test on the finance mart + a DAG with an import error")
        before: dict[str, dict[str, Any]] | None = None
        prod_release_before: str | None = None
        dev_before: str | None = None
        with self.step("c1 prod tables before", "row counts and checksums of prod's warehouse tables") as s:
            prod_release_before = self.live("prod").get("live_release")
            dev_before = self.live("dev").get("live_release")
            before = self.prod_tables()
            s.result = fingerprints_line(before)
        with self.step("c2 commit bad change",
                       f"{FINANCE_MART} gains an always-NULL column with a not_null test; {BROKEN_DAG} added") as s:
            edit(self.clone, FINANCE_MART, add_failing_finance_column)
            edit(self.clone, MART_SCHEMA, add_failing_finance_test)
            (self.clone / BROKEN_DAG).write_text(BROKEN_DAG_SOURCE)
            sha = commit_all(self.clone, "demo: bad change (refunded_amount never filled; orders_export DAG)",
                             DEMO_AUTHOR, self.env)
            s.result = f"commit {sha[:12]}"
        with self.step("c3 build bad release", "built (building is not deploying)") as s:
            self.bad = self.build("bad")
            s.result = self.bad
        if not self.bad:
            raise StepFailed("the bad change could not be built")
        deploy: CliCall | None = None
        with self.step("c4 bad -> dev", "BLOCKED (exit 1) by the dev gates; dev unchanged") as s:
            deploy = self.call("deploy", self.bad, "--env", "dev")
            doc = deploy.doc or {}
            if deploy.exit_code != 1 or doc.get("status") != "blocked":
                raise StepFailed(f"expected exit 1 / blocked, got exit {deploy.exit_code} / {doc.get('status')}: "
                                 f"{deploy.describe_failure()}")
            for g in failed_gates(doc):
                self.sub(f"gate evidence: {gate_line(g)}")
            dev = self.live("dev").get("live_release")
            if dev != dev_before:
                raise StepFailed(f"blocked, but dev now runs {dev} (expected still {dev_before})")
            s.result = f"blocked (exit 1): {len(failed_gates(doc))} failed gate result(s); dev still runs {dev}"
        doc = (deploy.doc or {}) if deploy else {}
        with self.step("c5 gate evidence: DAG import error", f"dag_integrity names {Path(BROKEN_DAG).name}") as s:
            hits = [g for g in failed_gates(doc) if g.get("gate") == "dag_integrity"
                    and Path(BROKEN_DAG).name in json.dumps(g.get("evidence") or {})]
            if not hits:
                raise StepFailed("no failed dag_integrity result naming the broken DAG: "
                                 + ("; ".join(gate_line(g) for g in failed_gates(doc)) or "no failed gates"))
            s.result = gate_line(hits[0])[:300]
        with self.step("c6 gate evidence: failing finance data test",
                       f"a warehouse gate fails the not_null test on fct_daily_revenue.{BAD_COLUMN}") as s:
            if WAREHOUSE_KIND not in self.kinds(self.bad):
                raise AdapterNotAvailable(f"the bad release carries no {WAREHOUSE_KIND} artifact, so no warehouse "
                                          "gate could run the data test")
            # The failing audit must be named in the gate's list of failed tests -- an error that merely quotes
            # the edited file (e.g. a YAML parse error) is not the data test failing.
            hits = [g for g in failed_gates(doc) if g.get("gate") != "dag_integrity"
                    and any(BAD_COLUMN in str(name) for names in find_values(g, "failed") if isinstance(names, list)
                            for name in names)]
            if not hits:
                raise StepFailed("no failed warehouse gate result names the failing test: "
                                 + ("; ".join(gate_line(g) for g in failed_gates(doc)) or "no failed gates"))
            s.result = gate_line(hits[0])[:300]
        with self.step("c7 bad -> staging refused", "exit 1: the bad release never succeeded in dev") as s:
            refused = self.call("promote", self.bad, "--to", "staging")
            if refused.exit_code != 1:
                raise StepFailed(f"expected exit 1, got {refused.exit_code}: {refused.describe_failure()}")
            s.result = f"refused: {refused.describe_failure()[:200]}"
        with self.step("c8 prod tables after", "identical row counts and checksums; prod runs the same release") as s:
            prod_release = self.live("prod").get("live_release")
            if prod_release != prod_release_before:
                raise StepFailed(f"prod now runs {prod_release}, was {prod_release_before}")
            if before is None:
                if WAREHOUSE_KIND not in self.kinds(self.v1):
                    raise AdapterNotAvailable(f"no {WAREHOUSE_KIND} artifact, so no prod tables to compare")
                raise StepFailed("no 'before' fingerprint of prod's tables to compare with (see c1)")
            after = self.prod_tables()
            if after != before:
                diff = [n for n in sorted(set(before) | set(after)) if before.get(n) != after.get(n)]
                raise StepFailed(f"prod tables changed: {', '.join(diff)}")
            self.report.prod_tables_unchanged = True
            s.result = f"{len(after)} table(s) identical; prod still runs {prod_release}"

    # -- (d) ---------------------------------------------------------------------------------------------------------
    def chapter_d(self) -> None:
        self.chapter("(d) rollback of prod to v1, timed, with zero recompute")
        timing = self.report.rollback
        doc: dict[str, Any] = {}
        with self.step("d1 rollback prod -> v1", f"succeeded in <= {PROD_ROLLBACK_BUDGET_S:.0f} s wall") as s:
            call = self.call("rollback", "--env", "prod", "--to", self.v1, "--reason", "demo: bad numbers",
                             actor=ONCALL)
            doc = call.doc or {}
            timing.seconds = round(call.seconds, 3)
            t = doc.get("timing") or {}
            timing.engine_s, timing.component_s = t.get("engine_s"), t.get("component_s")
            if call.exit_code != 0 or doc.get("status") != "succeeded":
                raise StepFailed(f"rollback: {call.describe_failure()}")
            s.result = (f"{call.seconds:.2f}s wall (CLI total {t.get('total_s')}s: engine {t.get('engine_s')}s, "
                        f"components {t.get('component_s')}s); {self.check_live('prod', self.v1)}")
            if call.seconds > PROD_ROLLBACK_BUDGET_S:
                raise StepFailed(f"too slow: {s.result}")
        with self.step("d2 rollback recompute", "0 rows recomputed (prod points back at v1's snapshots)") as s:
            if WAREHOUSE_KIND not in self.kinds(self.v1):
                raise AdapterNotAvailable(f"v1 carries no {WAREHOUSE_KIND} artifact: no warehouse rollback evidence")
            timing.rows_recomputed = self.rows_for(self.v1, doc)
            if timing.rows_recomputed is None:
                raise StepFailed("the rollback's warehouse evidence names no rows_recomputed")
            if timing.rows_recomputed != 0:
                raise StepFailed(f"{timing.rows_recomputed} rows recomputed")
            s.result = "0 rows recomputed"

    # -- (e) ---------------------------------------------------------------------------------------------------------
    def chapter_e(self) -> None:
        self.chapter("(e) audit: verify the hash chain, export the evidence")
        with self.step("e1 audit verify", "hash chain intact") as s:
            doc = self.must("audit", "verify")
            if not doc.get("ok"):
                raise StepFailed(f"chain broken at seq {doc.get('first_broken_seq')}: {doc.get('problem')}")
            s.result = f"intact: {doc.get('entries_checked')} entries verified"
        with self.step("e2 audit export", "Markdown evidence of v1 and the good release in the work dir") as s:
            paths = []
            for rid in (self.v1, self.good):
                if not rid:
                    continue
                path = self.workdir / f"audit-{rid}.md"
                self.must("audit", "export", rid, "--format", "markdown", "--output", str(path))
                paths.append(str(path))
                self.say(f"  evidence written: {path}")
            s.result = "written: " + ", ".join(paths)
        with self.step("e3 clock override audited", f"deployments record clock.override={OUTSIDE_FREEZE}") as s:
            export = self.must("audit", "export", self.v1)
            overrides = {str(c.get("override")) for c in find_values(export, "clock") if isinstance(c, dict)}
            if overrides != {OUTSIDE_FREEZE}:
                raise StepFailed(f"audit entries record clock overrides {sorted(overrides)}")
            starts = sum(1 for e in export.get("audit_entries", []) if str(e.get("action", "")).endswith(".start"))
            s.result = f"{starts} deployment start entries record override {OUTSIDE_FREEZE} and the wall clock"


def run_demo(*, as_json: bool, keep: bool, workdir: Path | None) -> int:
    """Run the demo (see the module docstring); return the exit code: 0 all held, 1 not, 2 usage/set-up error."""
    return Demo(as_json=as_json, keep=keep, workdir=workdir).run()

