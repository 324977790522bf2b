"""The demo's chapters (a)-(e). Each talks only to the ``./release`` CLI of the checkout (through ``Demo``) and
checks its expectations from the CLI's JSON documents."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from northstar_release.cli_driver import ONCALL, OUTSIDE_FREEZE, CliCall, CommandFailed, commit_all, git
from northstar_release.demo.edits import (
    BAD_COLUMN,
    BROKEN_DAG,
    BROKEN_DAG_SOURCE,
    DEMO_AUTHOR,
    FINANCE_MART,
    GOOD_MART,
    MART_SCHEMA,
    PROD_ROLLBACK_BUDGET_S,
    SPARK_JOB,
    SPARK_KIND,
    SPARK_TEST_MODULE,
    SPARK_UNIT_TEST,
    WAREHOUSE_KIND,
    add_failing_finance_column,
    add_failing_finance_test,
    add_mart_column,
    break_spark_job,
    change_spark_job,
    edit,
)
from northstar_release.demo.errors import AdapterNotAvailable, StepFailed
from northstar_release.demo.evidence import (
    WAREHOUSE_GATE,
    clock_overrides,
    deployment_starts,
    failed_audits,
    failed_gates,
    fingerprints_line,
    gate_line,
    rows_recomputed,
)

if TYPE_CHECKING:
    from northstar_release.demo.core import Demo


def chapter_a(d: Demo) -> None:
    d.chapter("(a) release v1 of everything: dev -> staging -> approval by a second user -> prod")
    with d.step("a1 build v1", "HEAD packaged into content-addressed artifacts") as s:
        d.v1 = d.build("v1")
        s.result = f"{d.v1}: " + ", ".join(f"{k} {v[:12]}" for k, v in sorted(d.artifacts[d.v1].items()))
    if not d.v1:
        raise StepFailed("no v1 release: nothing else can run")
    all_kinds = d.registered_kinds()
    with d.step("a2 artifact kinds", "every registered kind: " + ", ".join(all_kinds)) as s:
        missing = [k for k in all_kinds if k not in d.kinds(d.v1)]
        if missing:
            raise AdapterNotAvailable(", ".join(missing) + " (registered in kinds/registry.py but not packaged); "
                                      f"v1 carries {', '.join(sorted(d.kinds(d.v1)))}")
        s.result = f"all {len(all_kinds)} registered kinds packaged"
    gate_ok = True
    with d.step("a3 v1 -> dev", "gates pass, deployed and verified") as s:
        gate_ok = False
        s.result = d.promote(d.v1, "dev", action="deploy")
        gate_ok = True
    if not gate_ok:
        raise StepFailed("v1 could not enter dev")
    with d.step("a4 v1 -> staging", "promoted unchanged (same digests)") as s:
        s.result = d.promote(d.v1, "staging")
    with d.step("a5 approval for prod", "the author is refused; a second user approves") as s:
        s.result = d.approve(d.v1)
    with d.step("a6 v1 -> prod", "promoted; prod runs v1's digests") as s:
        s.result = d.promote(d.v1, "prod") + "; " + d.check_live("prod", d.v1)
    with d.step("a7 same digests staging/prod", "staging and prod run identical artifact digests") as s:
        staging, prod = d.live("staging"), d.live("prod")
        digests = {k: v["sha256"] for k, v in staging["artifacts"].items()}
        if digests != {k: v["sha256"] for k, v in prod["artifacts"].items()}:
            raise StepFailed(f"staging {staging['artifacts']} != prod {prod['artifacts']}")
        s.result = f"{len(digests)} artifact(s) identical in staging and prod"


def chapter_b(d: Demo) -> None:
    d.chapter("(b) a good change: a new column on a mart + a Spark job change, promoted to prod, 0 recompute")
    with d.step("b1 commit good change", f"edit {GOOD_MART} and {SPARK_JOB}; commit in the clone") as s:
        edit(d.clone, GOOD_MART, add_mart_column)
        edit(d.clone, SPARK_JOB, change_spark_job)
        sha = commit_all(d.clone, "demo: fct_orders.payment_count; daily_revenue trims status", DEMO_AUTHOR,
                         d.env)
        d.good_commit = sha
        s.result = f"commit {sha[:12]} by {DEMO_AUTHOR}"
    with d.step("b2 build good release", "new digests for the warehouse project and the Spark job") as s:
        d.good = d.build("good")
        changed = sorted(k for k, v in d.artifacts[d.good].items() if d.artifacts[d.v1].get(k) != v)
        s.result = f"{d.good}: changed {', '.join(changed) or 'nothing'}"
        missing = [k for k in (WAREHOUSE_KIND, SPARK_KIND) if k not in d.kinds(d.good)]
        if missing:
            raise AdapterNotAvailable(f"{', '.join(missing)}: the mart and Spark edits are not packaged "
                                      f"({s.result})")
        unchanged = [k for k in (WAREHOUSE_KIND, SPARK_KIND) if not any(c.startswith(k + ":") for c in changed)]
        if unchanged:
            raise StepFailed(f"{s.result}; expected new digests for {', '.join(unchanged)}")
    if not d.good:
        raise StepFailed("the good change could not be built")
    with d.step("b3 good -> dev", "gates pass; the new column and job are built in dev") as s:
        s.result = d.promote(d.good, "dev", action="deploy")
    with d.step("b4 good -> staging", "promoted; 0 rows recomputed (virtual update)") as s:
        s.result = d.promote(d.good, "staging", expect_zero=True)
    with d.step("b5 approval for prod", "the author is refused; a second user approves") as s:
        s.result = d.approve(d.good)
    with d.step("b6 good -> prod", "promoted; 0 rows recomputed; prod runs the good release") as s:
        s.result = d.promote(d.good, "prod", expect_zero=True) + "; " + d.check_live("prod", d.good)


def chapter_c(d: Demo) -> None:
    d.chapter("(c) a bad change: a failing data test on the finance mart + a DAG with an import error")
    before: dict[str, dict[str, Any]] | None = None
    prod_release_before: str | None = None
    dev_before: str | None = None
    with d.step("c1 prod tables before", "row counts and checksums of prod's warehouse tables") as s:
        prod_release_before = d.live("prod").get("live_release")
        dev_before = d.live("dev").get("live_release")
        before = d.prod_tables()
        s.result = fingerprints_line(before)
    with d.step("c2 commit bad change",
                   f"{FINANCE_MART} gains an always-NULL column with a not_null test; {BROKEN_DAG} added") as s:
        edit(d.clone, FINANCE_MART, add_failing_finance_column)
        edit(d.clone, MART_SCHEMA, add_failing_finance_test)
        (d.clone / BROKEN_DAG).write_text(BROKEN_DAG_SOURCE)
        sha = commit_all(d.clone, "demo: bad change (refunded_amount never filled; orders_export DAG)",
                         DEMO_AUTHOR, d.env)
        s.result = f"commit {sha[:12]}"
    with d.step("c3 build bad release", "built (building is not deploying)") as s:
        d.bad = d.build("bad")
        s.result = d.bad
    if not d.bad:
        raise StepFailed("the bad change could not be built")
    deploy: CliCall | None = None
    with d.step("c4 bad -> dev", "BLOCKED (exit 1) by the dev gates; dev unchanged") as s:
        deploy = d.call("deploy", d.bad, "--env", "dev")
        doc = deploy.doc or {}
        if deploy.exit_code != 1 or doc.get("status") != "blocked":
            raise StepFailed(f"expected exit 1 / blocked, got exit {deploy.exit_code} / {doc.get('status')}: "
                             f"{deploy.describe_failure()}")
        for g in failed_gates(doc):
            d.sub(f"gate evidence: {gate_line(g)}")
        dev = d.live("dev").get("live_release")
        if dev != dev_before:
            raise StepFailed(f"blocked, but dev now runs {dev} (expected still {dev_before})")
        s.result = f"blocked (exit 1): {len(failed_gates(doc))} failed gate result(s); dev still runs {dev}"
    doc = (deploy.doc or {}) if deploy else {}
    with d.step("c5 gate evidence: DAG import error", f"dag_integrity names {Path(BROKEN_DAG).name}") as s:
        hits = [g for g in failed_gates(doc) if g["gate"] == "dag_integrity"
                and any(Path(f).name == Path(BROKEN_DAG).name for f in g["evidence"].get("import_errors") or {})]
        if not hits:
            raise StepFailed("no failed dag_integrity result naming the broken DAG: "
                             + ("; ".join(gate_line(g) for g in failed_gates(doc)) or "no failed gates"))
        s.result = gate_line(hits[0])[:300]
    with d.step("c6 gate evidence: failing finance data test",
                   f"a warehouse gate fails the not_null test on fct_daily_revenue.{BAD_COLUMN}") as s:
        if WAREHOUSE_KIND not in d.kinds(d.bad):
            raise AdapterNotAvailable(f"the bad release carries no {WAREHOUSE_KIND} artifact, so no warehouse "
                                      "gate could run the data test")
        # The failing audit must be named in the gate's list of failed tests -- an error that merely quotes
        # the edited file (e.g. a YAML parse error) is not the data test failing.
        hits = [g for g in failed_gates(doc) if any(BAD_COLUMN in name for name in failed_audits(g))]
        if not hits:
            raise StepFailed(f"no failed {WAREHOUSE_GATE} result names the failing test: "
                             + ("; ".join(gate_line(g) for g in failed_gates(doc)) or "no failed gates"))
        s.result = gate_line(hits[0])[:300]
    with d.step("c7 bad -> staging refused", "exit 1: the bad release never succeeded in dev") as s:
        refused = d.call("promote", d.bad, "--to", "staging")
        if refused.exit_code != 1:
            raise StepFailed(f"expected exit 1, got {refused.exit_code}: {refused.describe_failure()}")
        s.result = f"refused: {refused.describe_failure()[:200]}"
    with d.step("c8 prod tables after", "identical row counts and checksums; prod runs the same release") as s:
        prod_release = d.live("prod").get("live_release")
        if prod_release != prod_release_before:
            raise StepFailed(f"prod now runs {prod_release}, was {prod_release_before}")
        if before is None:
            if WAREHOUSE_KIND not in d.kinds(d.v1):
                raise AdapterNotAvailable(f"no {WAREHOUSE_KIND} artifact, so no prod tables to compare")
            raise StepFailed("no 'before' fingerprint of prod's tables to compare with (see c1)")
        after = d.prod_tables()
        if after != before:
            diff = [n for n in sorted(set(before) | set(after)) if before.get(n) != after.get(n)]
            raise StepFailed(f"prod tables changed: {', '.join(diff)}")
        d.report.prod_tables_unchanged = True
        s.result = f"{len(after)} table(s) identical; prod still runs {prod_release}"


def chapter_c2(d: Demo) -> None:
    d.chapter("(c2) a Spark job change whose own unit test fails: blocked at dev by the tests gate alone")
    if not d.good_commit:
        raise StepFailed("no good change commit to branch from (see b1)")
    dev_before = d.live("dev").get("live_release")
    try:
        _spark_bug(d, dev_before)
    finally:  # back to the demo's branch (the bad change), whatever happened on the side branch
        try:
            git(d.clone, "checkout", "-q", "-f", "demo", env=d.env)
        except CommandFailed as exc:
            raise StepFailed(f"could not check out the demo branch again: {exc}") from exc


def _spark_bug(d: Demo, dev_before: str | None) -> None:
    sha = ""
    with d.step("c2.1 commit Spark bug", f"{SPARK_JOB} stops lower-casing status (on top of the good change)") as s:
        git(d.clone, "checkout", "-q", "-b", "demo-spark-bug", d.good_commit, env=d.env)
        edit(d.clone, SPARK_JOB, break_spark_job)
        sha = commit_all(d.clone, "demo: daily_revenue matches status case-sensitively", DEMO_AUTHOR, d.env)
        s.result = f"commit {sha[:12]} on branch demo-spark-bug"
    if not sha:
        raise StepFailed("the Spark bug could not be committed")
    bug = ""
    with d.step("c2.2 build Spark bug release", "built; against the good release only the Spark job's digest "
                                                "differs (and the infra version map, which lists every digest)") as s:
        bug = d.build("spark-bug")
        changed = sorted(k for k, v in d.artifacts[bug].items() if d.artifacts[d.good].get(k) != v)
        s.result = f"{bug}: changed {', '.join(changed) or 'nothing'}"
        if sorted(k.split(":", 1)[0] for k in changed) != sorted([SPARK_KIND, "infra_version_map"]):
            raise StepFailed(f"{s.result}; expected one new {SPARK_KIND} digest and the version map")
    if not bug:
        raise StepFailed("the Spark bug release could not be built")
    with d.step("c2.3 Spark bug -> dev", f"BLOCKED (exit 1) by the tests gate only: {SPARK_UNIT_TEST} fails; "
                                         "every other gate passed; dev unchanged") as s:
        deploy = d.call("deploy", bug, "--env", "dev")
        doc = deploy.doc or {}
        if deploy.exit_code != 1 or doc.get("status") != "blocked":
            raise StepFailed(f"expected exit 1 / blocked, got exit {deploy.exit_code} / {doc.get('status')}: "
                             f"{deploy.describe_failure()}")
        failed = failed_gates(doc)
        for g in failed:
            d.sub(f"gate evidence: {gate_line(g)}")
        if [g["gate"] for g in failed] != ["tests"]:
            raise StepFailed("expected the tests gate alone to block, got: " + "; ".join(gate_line(g) for g in failed))
        evidence = failed[0]["evidence"]
        failing = evidence.get("failed_tests") or []
        if not failing or not all(t.startswith(SPARK_TEST_MODULE + "::") for t in failing):
            raise StepFailed(f"the tests gate's failing tests {failing} are not (only) {SPARK_TEST_MODULE}'s")
        dev = d.live("dev").get("live_release")
        if dev != dev_before:
            raise StepFailed(f"blocked, but dev now runs {dev} (expected still {dev_before})")
        s.result = (f"blocked: {len(evidence.get('reached') or [])} file target(s) reached, failing "
                    f"{', '.join(failing)} ({evidence.get('duration_s')} s); dev still runs {dev}")


def chapter_d(d: Demo) -> None:
    d.chapter("(d) rollback of prod to v1, timed, with zero recompute")
    timing = d.report.rollback
    doc: dict[str, Any] = {}
    with d.step("d1 rollback prod -> v1", f"succeeded in <= {PROD_ROLLBACK_BUDGET_S:.0f} s wall") as s:
        call = d.call("rollback", "--env", "prod", "--to", d.v1, "--reason", "demo: bad numbers",
                         actor=ONCALL)
        doc = call.doc or {}
        timing.seconds = round(call.seconds, 3)
        t = doc.get("timing") or {}
        timing.engine_s, timing.component_s = t.get("engine_s"), t.get("component_s")
        if call.exit_code != 0 or doc.get("status") != "succeeded":
            raise StepFailed(f"rollback: {call.describe_failure()}")
        s.result = (f"{call.seconds:.2f}s wall (CLI total {t.get('total_s')}s: engine {t.get('engine_s')}s, "
                    f"components {t.get('component_s')}s); {d.check_live('prod', d.v1)}")
        if call.seconds > PROD_ROLLBACK_BUDGET_S:
            raise StepFailed(f"too slow: {s.result}")
    with d.step("d2 rollback recompute", "0 rows recomputed (prod points back at v1's snapshots)") as s:
        if WAREHOUSE_KIND not in d.kinds(d.v1):
            raise AdapterNotAvailable(f"v1 carries no {WAREHOUSE_KIND} artifact: no warehouse rollback evidence")
        timing.rows_recomputed = rows_recomputed(doc)
        if timing.rows_recomputed is None:
            raise StepFailed("the rollback's warehouse evidence names no rows_recomputed")
        if timing.rows_recomputed != 0:
            raise StepFailed(f"{timing.rows_recomputed} rows recomputed")
        s.result = "0 rows recomputed"


def chapter_e(d: Demo) -> None:
    d.chapter("(e) audit: verify the hash chain, export the evidence")
    with d.step("e1 audit verify", "hash chain intact") as s:
        doc = d.must("audit", "verify")
        if not doc.get("ok"):
            raise StepFailed(f"chain broken at seq {doc.get('first_broken_seq')}: {doc.get('problem')}")
        s.result = f"intact: {doc.get('entries_checked')} entries verified"
    with d.step("e2 audit export", "Markdown evidence of v1 and the good release in the work dir") as s:
        paths = []
        for rid in (d.v1, d.good):
            if not rid:
                continue
            path = d.workdir / f"audit-{rid}.md"
            d.must("audit", "export", rid, "--format", "markdown", "--output", str(path))
            paths.append(str(path))
            d.say(f"  evidence written: {path}")
        s.result = "written: " + ", ".join(paths)
    with d.step("e3 clock override audited", f"deployments record clock.override={OUTSIDE_FREEZE}") as s:
        export = d.must("audit", "export", d.v1)
        overrides = clock_overrides(export)
        if overrides != {OUTSIDE_FREEZE}:
            raise StepFailed(f"audit entries record clock overrides {sorted(map(str, overrides))}")
        starts = deployment_starts(export)
        s.result = f"{starts} deployment start entries record override {OUTSIDE_FREEZE} and the wall clock"
