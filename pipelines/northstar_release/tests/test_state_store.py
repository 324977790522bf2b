"""The state-store contract, run against SQLite and a real PostgreSQL server (fixtures in conftest)."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from northstar_release.audit import GENESIS, AuditAnchor, verify_chain
from northstar_release.model import (
    Approval,
    Artifact,
    ArtifactKind,
    Deployment,
    DeploymentStatus,
    GateOutcome,
    GateResult,
    Release,
)
from northstar_release.state import StateError, open_store
from northstar_release.state.sql import SCHEMA_VERSION, SqlStateStore

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def make_release(rid: str = "r-abc123", at: datetime = T0) -> Release:
    return Release(
        id=rid,
        git_commit="abc123" * 6,
        author="ana@northstar",
        created_at=at,
        artifacts=(
            Artifact(kind=ArtifactKind.DAG_BUNDLE, name="dags", sha256="a" * 64, size=10, uri="file:///x/a"),
            Artifact(kind=ArtifactKind.SPARK_JOB, name="orders", sha256="b" * 64, size=20, uri="file:///x/b",
                     source_targets=("jobs/orders:job",)),
        ),
        change_summary="orders: dedupe by order_id",
        tags=("finance",),
    )


def make_deployment(env: str = "dev", rid: str = "r-abc123", at: datetime = T0) -> Deployment:
    return Deployment(release_id=rid, env=env, status=DeploymentStatus.RUNNING, actor="ana", started_at=at)


def raw_sql(store_url: str, statements: Sequence[str]) -> None:
    """Run SQL behind the store's back, as a database administrator would."""
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


def drop_guards(store_url: str) -> list[str]:
    if store_url.startswith("sqlite://"):
        return [
            "DROP TRIGGER audit_no_update",
            "DROP TRIGGER audit_no_delete",
            "DROP TRIGGER audit_head_advance_only",
            "DROP TRIGGER audit_head_no_delete",
        ]
    return ["ALTER TABLE audit DISABLE TRIGGER USER", "ALTER TABLE audit_head DISABLE TRIGGER USER"]


def append_n(store, n: int, env: str = "dev") -> None:
    for i in range(n):
        with store.transaction() as tx:
            tx.append_audit("ana", f"deploy.step{i}", "r-abc123", env, {"i": i, "note": "héllo", "at": T0})


# -- releases, deployments, approvals, gates, live ------------------------------------------------------------------


def test_save_release_is_idempotent_and_round_trips(store) -> None:
    release = make_release()
    with store.transaction() as tx:
        assert tx.save_release(release) is True
    with store.transaction() as tx:
        assert tx.save_release(release.model_copy(update={"author": "someone-else"})) is False
    assert store.get_release(release.id) == release
    assert store.get_release("nope") is None


def test_list_releases_newest_first(store) -> None:
    old, new = make_release("r-old", T0), make_release("r-new", T0 + timedelta(hours=1))
    with store.transaction() as tx:
        tx.save_release(old)
        tx.save_release(new)
    assert [r.id for r in store.list_releases()] == ["r-new", "r-old"]


def test_deployments_newest_first_with_filters(store) -> None:
    with store.transaction() as tx:
        d1 = tx.start_deployment(make_deployment("dev", "r1"))
        d2 = tx.start_deployment(make_deployment("staging", "r1"))
        d3 = tx.start_deployment(make_deployment("dev", "r2"))
    assert d1.id is not None and d2.id is not None and d3.id is not None and d1.id < d2.id < d3.id
    assert [d.id for d in store.deployments()] == [d3.id, d2.id, d1.id]
    assert [d.id for d in store.deployments(env="dev")] == [d3.id, d1.id]
    assert [d.id for d in store.deployments(release_id="r1")] == [d2.id, d1.id]
    assert [d.id for d in store.deployments(env="dev", release_id="r1")] == [d1.id]
    assert store.deployments()[2] == d1


def test_update_deployment(store) -> None:
    with store.transaction() as tx:
        dep = tx.start_deployment(make_deployment())
        assert dep.id is not None
        tx.update_deployment(dep.id, stage=("gates", T0 + timedelta(minutes=1)))
        done = tx.update_deployment(
            dep.id,
            status=DeploymentStatus.SUCCEEDED,
            stage=("deploy:dags", T0 + timedelta(minutes=2)),
            finished_at=T0 + timedelta(minutes=3),
            reason="all green",
        )
    assert done.status == DeploymentStatus.SUCCEEDED
    assert list(done.stages) == ["gates", "deploy:dags"] or set(done.stages) == {"gates", "deploy:dags"}
    assert done.stages["gates"] == (T0 + timedelta(minutes=1)).isoformat(timespec="microseconds")
    assert done.finished_at == T0 + timedelta(minutes=3)
    assert store.deployments() == [done]
    with pytest.raises(StateError):
        with store.transaction() as tx:
            tx.update_deployment(9999, status=DeploymentStatus.FAILED)


def test_live_pointers(store) -> None:
    with store.transaction() as tx:
        tx.set_live("dev", "dag_bundle", "dags", "a" * 64, "r1")
        tx.set_live("dev", ArtifactKind.SPARK_JOB, "orders", "b" * 64, "r1")
        tx.set_live("prod", "dag_bundle", "dags", "c" * 64, "r0")
    with store.transaction() as tx:
        tx.set_live("dev", "dag_bundle", "dags", "d" * 64, "r2")
    assert store.live("dev") == {("dag_bundle", "dags"): ("d" * 64, "r2"), ("spark_job", "orders"): ("b" * 64, "r1")}
    assert store.live("prod") == {("dag_bundle", "dags"): ("c" * 64, "r0")}
    assert store.live("staging") == {}


def test_approvals_unique_per_approver(store) -> None:
    first = Approval(release_id="r1", env="prod", approver="bo", at=T0, comment="lgtm")
    with store.transaction() as tx:
        assert tx.add_approval(first) is True
        assert tx.add_approval(first.model_copy(update={"comment": "again"})) is False
        assert tx.add_approval(first.model_copy(update={"approver": "cy", "at": T0 + timedelta(seconds=1)})) is True
        assert tx.add_approval(first.model_copy(update={"env": "staging"})) is True
    assert store.approvals("r1", "prod") == [first, first.model_copy(update={"approver": "cy", "at": T0 + timedelta(seconds=1)})]
    assert [a.env for a in store.approvals("r1", "staging")] == ["staging"]
    assert store.approvals("r2", "prod") == []


def test_gate_results_round_trip(store) -> None:
    results = [
        GateResult(gate="dagbag", target="dags", outcome=GateOutcome.PASSED, evidence={"dags": 12, "ok": True}),
        GateResult(gate="row_counts", target="orders", outcome=GateOutcome.FAILED, summary="-40% rows",
                   evidence={"before": 1000, "after": 600, "nested": {"ratio": 0.6, "tables": ["a", "b"]}}),
    ]
    with store.transaction() as tx:
        dep = tx.start_deployment(make_deployment())
        assert dep.id is not None
        tx.add_gate_results(dep.id, results)
    assert store.gate_results(dep.id) == results
    assert store.gate_results(dep.id + 1) == []


def test_exception_rolls_back_everything_including_audit(store) -> None:
    with pytest.raises(RuntimeError):
        with store.transaction() as tx:
            tx.save_release(make_release())
            dep = tx.start_deployment(make_deployment())
            tx.add_gate_results(dep.id, [GateResult(gate="g", target="t", outcome=GateOutcome.PASSED)])
            tx.add_approval(Approval(release_id="r-abc123", env="dev", approver="bo", at=T0))
            tx.set_live("dev", "dag_bundle", "dags", "a" * 64, "r-abc123")
            tx.append_audit("ana", "deploy.start", "r-abc123", "dev", {})
            raise RuntimeError("SIGKILL stand-in")
    assert store.get_release("r-abc123") is None
    assert store.list_releases() == []
    assert store.deployments() == []
    assert store.approvals("r-abc123", "dev") == []
    assert store.live("dev") == {}
    assert store.audit_entries() == []
    assert store.audit_anchor() == AuditAnchor(0, GENESIS)
    with store.transaction() as tx:  # the store is still usable and the chain restarts at 1
        assert tx.append_audit("ana", "deploy.start", None, None, {}).seq == 1


def test_schema_creation_is_idempotent(store_url: str, tmp_path: Path) -> None:
    first = open_store(store_url, tmp_path)
    with first.transaction() as tx:
        tx.save_release(make_release())
    first.close()
    second = open_store(store_url, tmp_path)
    try:
        assert second.get_release("r-abc123") == make_release()
        assert isinstance(second, SqlStateStore)  # both engines are SqlStateStores; _query is their internal reader
        assert second._query("SELECT version FROM schema_version") == [(SCHEMA_VERSION,)]
    finally:
        second.close()


def test_newer_schema_is_refused(store_url: str, tmp_path: Path) -> None:
    open_store(store_url, tmp_path).close()
    raw_sql(store_url, [f"INSERT INTO schema_version (version) VALUES ({SCHEMA_VERSION + 1})"])
    with pytest.raises(StateError, match="newer than this code"):
        open_store(store_url, tmp_path)


# -- audit ----------------------------------------------------------------------------------------------------------


def test_audit_append_builds_a_chain(store) -> None:
    with store.transaction() as tx:
        first = tx.append_audit("ana", "deploy.start", "r-abc123", "dev", {"plan": ["a", "b"], "at": T0})
        second = tx.append_audit("ana", "deploy.finish", "r-abc123", "dev", {"status": DeploymentStatus.SUCCEEDED})
    third_tx_entry = None
    with store.transaction() as tx:
        third_tx_entry = tx.append_audit("bo", "approve", "r-abc123", "prod", {})
    assert (first.seq, first.prev_hash) == (1, GENESIS)
    assert (second.seq, second.prev_hash) == (2, first.hash)
    assert (third_tx_entry.seq, third_tx_entry.prev_hash) == (3, second.hash)
    entries = store.audit_entries()
    assert entries == [first, second, third_tx_entry]  # exactly what append returned comes back
    assert entries[0].payload == {"plan": ["a", "b"], "at": "2024-05-01T12:00:00Z"}
    assert entries[1].payload == {"status": "succeeded"}
    assert store.audit_anchor() == AuditAnchor(3, third_tx_entry.hash)
    result = verify_chain(entries, store.audit_anchor())
    assert result.ok and result.entries_checked == 3 and result.first_broken_seq is None


def test_audit_entries_of_one_release_are_its_entries_in_chain_order(store) -> None:
    with store.transaction() as tx:
        a1 = tx.append_audit("ana", "deploy.start", "r-a", "dev", {"deployment_id": 1})
        tx.append_audit("ana", "deploy.start", "r-b", "dev", {"deployment_id": 2})
        a2 = tx.append_audit("ana", "deploy.succeeded", "r-a", "dev", {"deployment_id": 1})
    assert store.audit_entries_of("r-a") == [a1, a2]
    assert store.audit_entries_of("r-a") == [e for e in store.audit_entries() if e.release_id == "r-a"]
    assert store.audit_entries_of("r-unknown") == []


def test_audit_rows_cannot_be_updated_or_deleted(store, store_url: str) -> None:
    append_n(store, 2)
    for statement in (
        "UPDATE audit SET actor = 'mallory' WHERE seq = 1",
        "DELETE FROM audit WHERE seq = 2",
        "UPDATE audit_head SET seq = 1 WHERE id = 1",
        "DELETE FROM audit_head",
    ):
        with pytest.raises(Exception, match="append-only|only advances|cannot be deleted"):
            raw_sql(store_url, [statement])
    if not store_url.startswith("sqlite://"):
        with pytest.raises(Exception, match="append-only"):
            raw_sql(store_url, ["TRUNCATE audit"])
    assert verify_chain(store.audit_entries(), store.audit_anchor()).ok
    with store.transaction() as tx:  # and the API offers no way to change an entry
        assert [m for m in dir(tx) if "audit" in m] == ["append_audit"]


@pytest.mark.parametrize(
    "column, edit",
    [
        ("payload", "replace(payload, 'h\u00e9llo', 'hallo')"),  # one character
        ("payload", "replace(payload, '\"i\":1', '\"i\":2')"),  # one byte
        ("payload", "replace(payload, '\"i\":1', '\"i\": 1')"),  # one whitespace byte: not canonical
        ("payload", "substr(payload, 2)"),  # no longer JSON at all
        ("actor", "'anb'"),
        ("action", "replace(action, 'step1', 'step2')"),
        ("env", "'prod'"),
        # last microsecond digit of the ISO timestamp
        ("at", "substr(at, 1, 25) || CASE substr(at, 26, 1) WHEN '0' THEN '1' ELSE '0' END || substr(at, 27)"),
    ],
)
def test_verify_names_the_seq_of_a_one_byte_edit(store, store_url: str, column: str, edit: str) -> None:
    append_n(store, 3)
    raw_sql(store_url, [*drop_guards(store_url), f"UPDATE audit SET {column} = {edit} WHERE seq = 2"])
    result = verify_chain(store.audit_entries(), store.audit_anchor())
    assert not result.ok
    assert result.first_broken_seq == 2
    assert result.entries_checked == 1
    assert "seq 2" in result.problem and "edited" in result.problem


def test_verify_detects_a_deleted_entry(store, store_url: str) -> None:
    append_n(store, 4)
    raw_sql(store_url, [*drop_guards(store_url), "DELETE FROM audit WHERE seq = 2"])
    result = verify_chain(store.audit_entries(), store.audit_anchor())
    assert not result.ok and result.first_broken_seq == 3 and "seq 2 missing" in result.problem


def test_verify_detects_reordered_entries(store, store_url: str) -> None:
    append_n(store, 3)
    raw_sql(store_url, [
        *drop_guards(store_url),
        "UPDATE audit SET seq = 100 WHERE seq = 1",
        "UPDATE audit SET seq = 1 WHERE seq = 2",
        "UPDATE audit SET seq = 2 WHERE seq = 100",
    ])
    result = verify_chain(store.audit_entries(), store.audit_anchor())
    assert not result.ok and result.first_broken_seq == 1


def test_verify_detects_a_rewritten_entry_with_recomputed_hash(store, store_url: str) -> None:
    from northstar_release.audit import entry_hash

    append_n(store, 3)
    forged = store.audit_entries()[1].model_copy(update={"actor": "mallory"})
    raw_sql(store_url, [
        *drop_guards(store_url),
        f"UPDATE audit SET actor = 'mallory', hash = '{entry_hash(forged)}' WHERE seq = 2",
    ])
    result = verify_chain(store.audit_entries(), store.audit_anchor())
    assert not result.ok and result.first_broken_seq == 3 and "prev_hash" in result.problem


def test_truncated_tail_is_caught_by_the_anchor_only(store, store_url: str) -> None:
    append_n(store, 4)
    exported = store.audit_anchor()  # what production would copy to write-once storage
    raw_sql(store_url, [*drop_guards(store_url), "DELETE FROM audit WHERE seq >= 3",
                        "UPDATE audit_head SET seq = 2, hash = (SELECT hash FROM audit WHERE seq = 2)"])
    entries = store.audit_entries()
    assert verify_chain(entries).ok  # the chain alone cannot see it
    result = verify_chain(entries, exported)
    assert not result.ok and result.first_broken_seq == 3 and "truncated" in result.problem
    # the in-database anchor was rewritten too; only the exported copy caught it
    assert verify_chain(entries, store.audit_anchor()).ok


def test_truncated_tail_caught_by_in_database_anchor(store, store_url: str) -> None:
    append_n(store, 3)
    raw_sql(store_url, [*drop_guards(store_url), "DELETE FROM audit WHERE seq = 3"])
    result = verify_chain(store.audit_entries(), store.audit_anchor())
    assert not result.ok and result.first_broken_seq == 3


def test_concurrent_appenders_do_not_fork_the_chain(store_url: str, tmp_path: Path) -> None:
    """Separate store objects = separate connections, as separate CLI processes would have."""
    stores = [open_store(store_url, tmp_path) for _ in range(4)]
    errors: list[BaseException] = []

    def work(s) -> None:
        try:
            for i in range(15):
                with s.transaction() as tx:
                    tx.append_audit("ana", f"step{i}", None, None, {"worker": id(s)})
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(s,)) for s in stores]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    try:
        assert errors == []
        entries = stores[0].audit_entries()
        assert [e.seq for e in entries] == list(range(1, 61))
        assert verify_chain(entries, stores[0].audit_anchor()).ok
    finally:
        for s in stores:
            s.close()


def test_nested_transaction_is_refused(store) -> None:
    with store.transaction():
        with pytest.raises(StateError, match="nested"):
            with store.transaction():
                pass
