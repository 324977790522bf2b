"""``./release demo``: the whole release story on one machine, through the real ``./release`` CLI.

In a temporary clone of this checkout (at its HEAD), with the release state inside the demo's work dir and the policy
clock pinned outside prod's freeze window, it narrates and runs:

  (a) release v1 of everything -> dev -> staging -> approval by a second user (not the author) -> prod;
  (b) a good change (a new column on a mart, a change to the daily_revenue Spark job) committed in the clone, built
      and promoted to prod, with the warehouse deploy evidence showing 0 rows recomputed at each promotion;
  (c) a bad change (a failing data test on the finance mart, a DAG with an import error) built and deployed to dev,
      which must be BLOCKED (exit 1) with the gate evidence shown; prod's warehouse row counts and table checksums are
      read before and after and must be identical (the tests gate, still running when another gate blocks, stops);
  (c2) a Spark job change whose own unit test fails (``daily_revenue`` stops lower-casing status) on a side branch
      from the good change: every other gate passes, the ``tests`` gate (Pants test over what changed since prod's
      commit, in the clone) blocks it at dev naming the failing test target;
  (d) a timed rollback of prod to v1 (wall seconds, and the engine/component split the CLI reports) with 0 rows
      recomputed;
  (e) ``audit verify`` (must pass) and ``audit export`` as Markdown into the work dir;
  (f) a DAG release that passes every gate but makes prod's ``orders_daily`` load a tenth of its rows: the scheduled
      ``./release health watch --env prod`` detects it from real Airflow runs and rolls prod back automatically
      (prod's ``health.auto_rollback``); the HTML dashboard is written and its path printed (``health_chapter.py``;
      a DAG-only side repository with its own state, so it costs seconds, not the warehouse's minutes).

Why subprocesses of the ORIGINAL checkout's ``./release`` with cwd = the clone: the demo must prove what a user gets
(the wrapper's set-up, argument parsing, exit codes, ``--json`` documents), while the commits it makes for (b), (c) and (c2)
must never touch the user's working tree. Every expectation is checked from the CLI's own JSON output or from the
component entry points' JSON (prod table fingerprints come from the ``warehouse`` entry point through
``SubprocessComponentRunner``), never assumed: a step whose evidence cannot be obtained -- e.g. an artifact kind whose
adapter is not registered yet -- is reported as failed ("adapter not available"), so the demo exits 0 only if every
expectation really held. Exit codes: 0 all held, 1 some did not, 2 usage/set-up error (no commits, work dir in use,
clone or tool set-up failed).

Progress goes to stderr (one line per step and per CLI progress line, with elapsed seconds); the summary table goes to
stdout, or with ``as_json`` to stderr while stdout carries exactly one JSON document.
"""

from northstar_release.cli_driver import OUTSIDE_FREEZE
from northstar_release.demo.core import HERMETIC_UNSET, Demo, run_demo
from northstar_release.demo.edits import (
    BAD_COLUMN,
    BROKEN_DAG,
    BROKEN_DAG_SOURCE,
    FINANCE_MART,
    GOOD_MART,
    MART_SCHEMA,
    SPARK_JOB,
    add_failing_finance_column,
    add_failing_finance_test,
    add_mart_column,
    break_spark_job,
    change_spark_job,
    edit,
)
from northstar_release.demo.errors import AdapterNotAvailable, DemoSetupError, StepFailed
from northstar_release.demo.evidence import (
    clock_overrides,
    deployment_starts,
    failed_audits,
    failed_gates,
    fingerprints_line,
    gate_line,
    rows_recomputed,
    table_fingerprints,
)
from northstar_release.demo.report import DemoReport, RollbackTiming, StepRecord, render, summary_table

__all__ = ["BAD_COLUMN", "BROKEN_DAG", "BROKEN_DAG_SOURCE", "FINANCE_MART", "GOOD_MART", "HERMETIC_UNSET", "MART_SCHEMA",
           "OUTSIDE_FREEZE", "SPARK_JOB", "AdapterNotAvailable", "Demo", "DemoReport", "DemoSetupError", "RollbackTiming",
           "StepFailed", "StepRecord", "add_failing_finance_column", "add_failing_finance_test", "add_mart_column",
           "break_spark_job", "change_spark_job", "clock_overrides", "deployment_starts", "edit", "failed_audits", "failed_gates",
           "fingerprints_line",
           "gate_line", "render", "rows_recomputed", "run_demo", "summary_table", "table_fingerprints"]
