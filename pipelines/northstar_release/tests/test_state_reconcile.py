"""Approvals, deployments and live pointers reconciled with the audit chain, against SQLite and a real PostgreSQL.

Tampering is done the way a database administrator would: plain SQL on the tables, behind the store's back."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import pytest

from northstar_release import checks
from northstar_release.audit import verify_chain
from northstar_release.identity import IdentityRecord, unverified
from northstar_release.model import (
    Approval,
    Artifact,
    ArtifactKind,
    Deployment,
    DeploymentStatus,
    Environment,
    PromotionMode,
    Release,
    ReleaseAction,
)
from northstar_release.state import StateError, open_store
from northstar_release.state.reconcile import reconcile, verify_state, vouched_approvals
from northstar_release.state.sql import STATE_ROWS_KEY

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
RELEASE = Release(id="rel-1", git_commit="c" * 40, author="ana@northstar.example", created_at=T0,
                  artifacts=(Artifact(kind=ArtifactKind.DAG_BUNDLE, name="dags", sha256="a" * 64, size=1,
                                      uri="file:///a"),))
PROD = Environment(name="prod", order=3, promotion=PromotionMode.APPROVAL, approvers_required=1, previous="staging")
PROD_VERIFIED = PROD.model_copy(update={"require_verified_identity": True})
ENVS = {"prod": PROD}


def raw_sql(store_url: str, statements: Sequence[str]) -> None:
    """Run SQL behind the store's back."""
    if store_url.startswith("sqlite://"):
        conn = sqlite3.connect(store_url[len("sqlite://"):], isolation_level=None)
        try:
            for statement in statements:
                conn.execute(statement)
        finally:
            conn.close()
    else:
        import psycopg

        with psycopg.connect(store_url, autocommit=True) as pg_conn:
            for statement in statements:
                pg_conn.execute(statement)


def approve(store, who: str, identity: IdentityRecord | None = None, comment: str = "lgtm") -> None:
    """What `./release approve` does: the row and its audit entry in one transaction."""
    record = identity or unverified(who)
    with store.transaction() as tx:
        assert tx.add_approval(Approval(release_id=RELEASE.id, env="prod", approver=record.subject, at=T0,
                                        comment=comment))
        tx.append_audit(record.subject, "approval.add", RELEASE.id, "prod",
                        {"comment": comment, "identity": record.to_json()})


def lifecycle(store) -> int:
    """A release built, deployed to prod (succeeded, live pointer set) and approved, all through the API."""
    with store.transaction() as tx:
        tx.save_release(RELEASE)
        tx.append_audit("ana@northstar.example", "release.build", RELEASE.id, None, {})
    approve(store, "bo@northstar.example")
    with store.transaction() as tx:
        dep = tx.start_deployment(Deployment(release_id=RELEASE.id, env="prod", status=DeploymentStatus.RUNNING,
                                             actor="ci", action=ReleaseAction.PROMOTE, started_at=T0))
        tx.append_audit("ci", "promote.start", RELEASE.id, "prod", {"deployment_id": dep.id})
    dep_id = dep.persisted_id()
    with store.transaction() as tx:  # progress-only update: not chained, no audit entry needed
        tx.update_deployment(dep_id, stage=("check:approvals", T0))
    with store.transaction() as tx:
        tx.set_live("prod", "dag_bundle", "dags", "a" * 64, RELEASE.id)
        tx.update_deployment(dep_id, status=DeploymentStatus.SUCCEEDED, finished_at=T0)
        tx.append_audit("ci", "promote.succeeded", RELEASE.id, "prod", {"deployment_id": dep_id})
    return dep_id


def problems(store) -> list[str]:
    return [d.problem for d in reconcile(store)]


def test_api_writes_reconcile_and_actions_are_unchanged(store) -> None:
    lifecycle(store)
    result = verify_state(store)
    assert result.ok, result.problem
    actions = [e.action for e in store.audit_entries()]
    assert actions == ["release.build", "approval.add", "promote.start", "promote.succeeded"]
    succeeded = store.audit_entries()[-1]
    tables = sorted(image["table"] for image in succeeded.payload[STATE_ROWS_KEY])
    assert tables == ["deployments", "live"]


def test_row_write_without_audit_entry_gets_a_state_sync_entry(store) -> None:
    lifecycle(store)
    with store.transaction() as tx:
        tx.set_live("prod", "spark_job", "orders", "b" * 64, RELEASE.id)
    last = store.audit_entries()[-1]
    assert last.action == "state.sync" and last.actor == "system:northstar-release"
    assert verify_state(store).ok


def test_reserved_payload_key_is_refused(store) -> None:
    with pytest.raises(StateError, match="reserved"):
        with store.transaction() as tx:
            tx.append_audit("ana", "x", None, None, {STATE_ROWS_KEY: []})


# -- approvals --------------------------------------------------------------------------------------------------------


def test_inserted_approval_is_caught_by_verify_and_refused_by_promotion(store, store_url: str) -> None:
    lifecycle(store)
    raw_sql(store_url, ["INSERT INTO approvals (release_id, env, approver, at, comment) VALUES "
                        "('rel-1', 'prod', 'mallory@northstar.example', '2024-05-01T12:00:00.000000+00:00', 'ok')"])
    assert verify_chain(store.audit_entries(), store.audit_anchor()).ok  # the chain alone cannot see it
    result = verify_state(store)
    assert not result.ok and "approvals row" in result.problem and "mallory@northstar.example" in result.problem
    assert "not vouched for" in result.problem and result.first_broken_seq is None and result.scope == "state"
    evidence = vouched_approvals(store, RELEASE.id, "prod")
    assert [a.approver for a in evidence.approvals] == ["bo@northstar.example"]
    assert any("mallory@northstar.example" in p and "forged" in p for p in evidence.problems)
    reasons = checks.run_check(checks.CHECK_APPROVALS, RELEASE, PROD, store, ENVS, T0)
    assert reasons and "mallory@northstar.example" in reasons[0] and "forged" in reasons[0]


def test_forged_approval_alone_cannot_satisfy_promotion(store, store_url: str) -> None:
    with store.transaction() as tx:
        tx.save_release(RELEASE)
        tx.append_audit("ana@northstar.example", "release.build", RELEASE.id, None, {})
    raw_sql(store_url, ["INSERT INTO approvals (release_id, env, approver, at, comment) VALUES "
                        "('rel-1', 'prod', 'bo@northstar.example', '2024-05-01T12:00:00.000000+00:00', '')"])
    assert store.approvals(RELEASE.id, "prod")  # the row is there ...
    reasons = checks.run_check(checks.CHECK_APPROVALS, RELEASE, PROD, store, ENVS, T0)
    assert any("forged" in r for r in reasons) and any("has 0" in r for r in reasons)  # ... and does not count


def test_deleted_approval_is_caught(store, store_url: str) -> None:
    lifecycle(store)
    raw_sql(store_url, ["DELETE FROM approvals WHERE approver = 'bo@northstar.example'"])
    result = verify_state(store)
    assert not result.ok and "missing from the table (deleted)" in result.problem and result.first_broken_seq == 2


@pytest.mark.parametrize("column, value", [("approver", "'cy@northstar.example'"), ("comment", "'rubber stamp'"),
                                           ("at", "'2024-05-01T11:00:00.000000+00:00'")])
def test_altered_approval_is_caught(store, store_url: str, column: str, value: str) -> None:
    lifecycle(store)
    raw_sql(store_url, [f"UPDATE approvals SET {column} = {value}"])
    found = problems(store)
    assert found, column
    assert not verify_state(store).ok
    reasons = checks.run_check(checks.CHECK_APPROVALS, RELEASE, PROD, store, ENVS, T0)
    assert any("forged or altered" in r for r in reasons)


def test_promotion_counts_only_verified_identities_where_required(store) -> None:
    with store.transaction() as tx:
        tx.save_release(RELEASE)
        tx.append_audit("ana@northstar.example", "release.build", RELEASE.id, None, {})
    approve(store, "bo@northstar.example")
    reasons = checks.run_check(checks.CHECK_APPROVALS, RELEASE, PROD_VERIFIED, store, {"prod": PROD_VERIFIED}, T0)
    assert any("requires a CI-verified identity" in r for r in reasons)
    assert checks.run_check(checks.CHECK_APPROVALS, RELEASE, PROD, store, ENVS, T0) == []
    verified = IdentityRecord(subject="cy-reviewer", verified=True, issuer="https://token.actions.githubusercontent.com",
                              claims_digest="d" * 64, actor="cy-reviewer", environment="prod",
                              repository="northstar/data-platform", run_id="7")
    approve(store, "cy-reviewer", identity=verified)
    assert checks.run_check(checks.CHECK_APPROVALS, RELEASE, PROD_VERIFIED, store, {"prod": PROD_VERIFIED}, T0) == []


# -- deployments and live pointers ------------------------------------------------------------------------------------


def test_inserted_deployment_is_caught(store, store_url: str) -> None:
    lifecycle(store)
    raw_sql(store_url, ["INSERT INTO deployments (release_id, env, status, actor, action, started_at, stages, reason) "
                        "VALUES ('rel-0', 'prod', 'succeeded', 'ci', 'promote', '2024-05-01T10:00:00.000000+00:00', "
                        "'{}', '')"])
    assert any("deployments row" in p and "not vouched" in p for p in problems(store))


def test_altered_deployment_status_is_caught(store, store_url: str) -> None:
    dep_id = lifecycle(store)
    raw_sql(store_url, [f"UPDATE deployments SET status = 'rolled_back' WHERE id = {dep_id}"])
    found = problems(store)
    assert len(found) == 1 and "status stored 'rolled_back', chain says 'succeeded'" in found[0]


def test_deleted_deployment_is_caught(store, store_url: str) -> None:
    dep_id = lifecycle(store)
    raw_sql(store_url, [f"DELETE FROM deployments WHERE id = {dep_id}"])
    assert any("deployments row" in p and "deleted" in p for p in problems(store))


def test_stage_progress_is_not_a_discrepancy(store, store_url: str) -> None:
    dep_id = lifecycle(store)
    raw_sql(store_url, [f"UPDATE deployments SET stages = '{{}}' WHERE id = {dep_id}"])
    assert problems(store) == []


@pytest.mark.parametrize("statement, expected", [
    ("INSERT INTO live (env, kind, name, sha256, release_id) VALUES ('prod', 'spark_job', 'x', '{b}', 'rel-1')",
     "not vouched"),
    ("DELETE FROM live WHERE name = 'dags'", "deleted"),
    ("UPDATE live SET sha256 = '{b}' WHERE name = 'dags'", "sha256 stored"),
    ("UPDATE live SET release_id = 'rel-0' WHERE name = 'dags'", "release_id stored 'rel-0'"),
])
def test_live_pointer_tampering_is_caught(store, store_url: str, statement: str, expected: str) -> None:
    lifecycle(store)
    raw_sql(store_url, [statement.format(b="b" * 64)])
    found = problems(store)
    assert len(found) == 1 and "live row" in found[0] and expected in found[0]
    assert not verify_state(store).ok


def test_upgrade_from_unchained_schema_records_a_baseline(store_url: str, tmp_path: Path) -> None:
    """A state database written by schema version 1 (rows not chained): the upgrade vouches for them explicitly."""
    first = open_store(store_url, tmp_path)
    first.close()
    raw_sql(store_url, [
        "INSERT INTO approvals (release_id, env, approver, at, comment) VALUES "
        "('rel-1', 'prod', 'bo@northstar.example', '2024-05-01T12:00:00.000000+00:00', '')",
        "DELETE FROM schema_version", "INSERT INTO schema_version (version) VALUES (1)"])
    upgraded = open_store(store_url, tmp_path)
    try:
        entries = upgraded.audit_entries()
        assert [e.action for e in entries] == ["state.baseline"]
        assert verify_state(upgraded).ok
        assert [a.approver for a in vouched_approvals(upgraded, "rel-1", "prod").approvals] == ["bo@northstar.example"]
    finally:
        upgraded.close()
