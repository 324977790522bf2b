"""Promotion speed without skipped controls (issue 8): environment-independent evidence is reused, not re-run.

A promotion carries the same digests the previous env gated and verified. The DagBag gate and the DAG bundle's
verification depend only on those bytes, so entering staging reuses dev's evidence: recorded as reused, pointing at
dev's ``deploy.succeeded`` audit entry, with an integrity check of the live bytes instead of a second DagBag run.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from northstar_release.evaluator import apply
from northstar_release.model import Approval, GateOutcome
from northstar_release.plan import plan_deploy
from northstar_release.stages import GateStage, VerifyMode, VerifyStage
from northstar_release.tests.fixtures_engine import NOW, Engine, make_engine
from northstar_release.tests.helpers import make_repo


@pytest.fixture
def eng(tmp_path: Path) -> Engine:
    return make_engine(tmp_path, make_repo(tmp_path))


def test_promotion_reuses_env_independent_gate_and_verify_evidence(eng: Engine) -> None:
    rel = eng.build()
    envs, store = eng.rt.environments, eng.rt.store
    dev = apply(plan_deploy(rel, envs["dev"], "deploy", "ci", store, envs, NOW), rel, eng.rt)
    assert dev.status == "succeeded"
    calls_after_dev = len(eng.runner.calls)

    plan = plan_deploy(rel, envs["staging"], "promote", "ci", store, envs, NOW)
    gate = next(s for s in plan.stages if isinstance(s, GateStage) and s.gate == "dag_integrity")
    verify = next(s for s in plan.stages if isinstance(s, VerifyStage))
    assert gate.reused_from is not None and gate.reused_from.env == "dev"
    assert gate.reused_from.deployment_id == dev.deployment_id
    (target,) = verify.targets
    assert target.mode == VerifyMode.INTEGRITY and target.reused_from == gate.reused_from

    staging = apply(plan, rel, eng.rt)
    assert staging.status == "succeeded"
    assert len(eng.runner.calls) == calls_after_dev  # no DagBag run at all: gate and verify reused
    results = {r.gate: r for r in store.gate_results(staging.deployment_id or 0)}
    assert results["dag_integrity"].reused_from == gate.reused_from
    assert results["dag_bundle.verify"].reused_from == gate.reused_from
    assert results["dag_bundle.verify"].evidence["mode"] == "integrity"
    assert results["dag_bundle.verify"].outcome == GateOutcome.PASSED
    # The pointer names an entry of the hash chain: dev's deploy.succeeded, which holds the original gate results.
    entry = next(e for e in store.audit_entries() if e.seq == gate.reused_from.audit_seq)
    assert entry.action == "deploy.succeeded" and entry.hash == gate.reused_from.audit_hash
    assert any(g["gate"] == "dag_integrity" and g["reused_from"] is None for g in entry.payload["gate_results"])

    # Prod reuses too, and still points at dev -- where the evidence was produced -- not at staging's reuse.
    with store.transaction() as tx:
        tx.add_approval(Approval(release_id=rel.id, env="prod", approver="bob@northstar.test", at=NOW))
    prod_plan = plan_deploy(rel, envs["prod"], "promote", "carol", store, envs, NOW.replace(hour=12))
    prod = apply(prod_plan, rel, eng.rt)
    assert prod.status == "succeeded", prod.reasons
    prod_results = {r.gate: r for r in store.gate_results(prod.deployment_id or 0)}
    assert prod_results["dag_integrity"].reused_from == gate.reused_from


def test_a_gate_result_edited_in_the_table_is_not_reused(eng: Engine, tmp_path: Path) -> None:
    """The plan reads reusable verdicts from the gate-results table; the chain vouches for them only as the payload of
    the original entry. A row edited in the database (here: dev's DagBag evidence) is not reused: the gate runs."""
    rel = eng.build()
    envs, store = eng.rt.environments, eng.rt.store
    dev = apply(plan_deploy(rel, envs["dev"], "deploy", "ci", store, envs, NOW), rel, eng.rt)
    assert dev.status == "succeeded"
    with sqlite3.connect(tmp_path / "state" / "state.db") as db:
        (row_id, text), = db.execute("SELECT id, json FROM gate_results WHERE deployment_id = ? AND json LIKE ?",
                                     (dev.deployment_id, '%"gate":"dag_integrity"%')).fetchall()
        doc = json.loads(text)
        doc["evidence"] = {**doc["evidence"], "edited": True}
        db.execute("UPDATE gate_results SET json = ? WHERE id = ?", (json.dumps(doc), row_id))
    calls_after_dev = len(eng.runner.calls)
    staging = apply(plan_deploy(rel, envs["staging"], "promote", "ci", store, envs, NOW), rel, eng.rt)
    assert staging.status == "succeeded", staging.reasons
    result = next(r for r in store.gate_results(staging.deployment_id or 0) if r.gate == "dag_integrity")
    assert result.reused_from is None and "edited" not in result.evidence  # ran again, on the bytes
    assert len(eng.runner.calls) > calls_after_dev


def test_tampered_extracted_bundle_is_never_switched_in(eng: Engine) -> None:
    """Verify-on-read (issue 14, deliver 5): a pre-extracted bundle folder whose bytes were changed is not reused by
    the switch; it is replaced by a fresh extraction from the store, so the tampered file never goes live."""
    rel = eng.build()
    envs, store = eng.rt.environments, eng.rt.store
    apply(plan_deploy(rel, envs["dev"], "deploy", "ci", store, envs, NOW), rel, eng.rt)
    folder = eng.root / "state" / "envs" / "staging" / "dag_bundles" / rel.artifacts[0].sha256
    plan = plan_deploy(rel, envs["staging"], "promote", "ci", store, envs, NOW)
    from northstar_release.adapters.dag_bundle import DagBundleAdapter

    DagBundleAdapter().ensure_extracted(rel.artifacts[0], eng.rt.env_context("staging"))
    (folder / "dags" / "sales_daily.py").write_text("# tampered\n")
    res = apply(plan, rel, eng.rt)
    assert res.status == "succeeded", res.reasons
    assert "tampered" not in (folder / "dags" / "sales_daily.py").read_text()
    assert DagBundleAdapter().current(eng.rt.env_context("staging")) == {"airflow-dags": rel.artifacts[0].sha256}


def test_an_unchanged_kind_is_neither_switched_nor_verified_again(eng: Engine) -> None:
    rel1 = eng.build()
    envs, store = eng.rt.environments, eng.rt.store
    apply(plan_deploy(rel1, envs["dev"], "deploy", "ci", store, envs, NOW), rel1, eng.rt)
    (eng.repo / "README.md").write_text("a change outside every artifact\n")
    from northstar_release.tests.helpers import commit

    commit(eng.repo, "docs only")
    rel2 = eng.build()
    assert rel2.id != rel1.id and rel2.artifacts[0].sha256 == rel1.artifacts[0].sha256  # content digest
    plan = plan_deploy(rel2, envs["dev"], "deploy", "ci", store, envs, NOW)
    verify = next(s for s in plan.stages if isinstance(s, VerifyStage))
    assert verify.targets == ()
    calls = len(eng.runner.calls)
    res = apply(plan, rel2, eng.rt)
    assert res.status == "succeeded" and len(eng.runner.calls) == calls + 1  # only the gate's DagBag check
    assert store.live("dev")[("dag_bundle", "airflow-dags")] == (rel1.artifacts[0].sha256, rel2.id)
