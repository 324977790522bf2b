"""The ``event_schemas`` kind and the ``schema_compat`` gate on the platform's real Avro schemas.

A temporary git repo carries the real ``pipelines/catalog/schemas``, ``sources.yaml`` and pipeline catalog; the real
CLI builds, deploys, promotes and rolls back. The v-2 case: v1 is the real orders schema, v2 adds ``promo_code`` with
a default (backward compatible), v3 drops that default -- it reads v2 data (the field is there) but not v1 data (no
field, no default): BACKWARD passes, BACKWARD_TRANSITIVE must block. Dropping ``channel`` is BACKWARD_TRANSITIVE but
breaks the Spark job that streams the topic into bronze: blocked, naming the job.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from northstar_release import gitutil
from northstar_release.adapters.base import BuildContext, CheckRequest, EnvContext, SwitchRequest, VerifyRequest
from northstar_release.adapters.event_schemas import ARTIFACT_NAME, KIND, EventSchemasAdapter
from northstar_release.artifact_store import LocalArtifactStore
from northstar_release.errors import Blocked, UsageError
from northstar_release.event_schemas import compat
from northstar_release.event_schemas.registry import LocalSchemaRegistry
from northstar_release.model import GateOutcome
from northstar_release.stages import SwitchMode
from northstar_release.tests.fixtures_engine import FakeRunner
from northstar_release.tests.helpers import REPO, Cli, commit, fake_checker_cmd, make_repo

SCHEMAS = "pipelines/catalog/schemas"
ORDERS = f"{SCHEMAS}/orders.order_events.v1/v1.avsc"
SUBJECT = "orders.order_events.v1-value"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    repo = make_repo(tmp_path)
    shutil.copytree(REPO / SCHEMAS, repo / SCHEMAS)
    shutil.copy(REPO / "pipelines/catalog/sources.yaml", repo / "pipelines/catalog/sources.yaml")
    shutil.copytree(REPO / "pipelines/catalog/pipelines", repo / "pipelines/catalog/pipelines")
    commit(repo, "the platform's event schemas")
    return repo


@pytest.fixture
def cli(repo: Path, tmp_path: Path) -> Cli:
    return Cli(repo, tmp_path / "state", fake_checker_cmd(tmp_path))


def orders(repo: Path) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((repo / ORDERS).read_text())
    return doc


def write_orders(repo: Path, doc: dict[str, Any], message: str) -> None:
    (repo / ORDERS).write_text(json.dumps(doc, indent=2) + "\n")
    commit(repo, message)


def drop_channel(doc: dict[str, Any]) -> dict[str, Any]:
    return {**doc, "fields": [f for f in doc["fields"] if f["name"] != "channel"]}


def channel_as_int(doc: dict[str, Any]) -> dict[str, Any]:
    return {**doc, "fields": [*drop_channel(doc)["fields"], {"name": "channel", "type": "int", "default": 0}]}


def add_promo(doc: dict[str, Any], default: bool) -> dict[str, Any]:
    field: dict[str, Any] = {"name": "promo_code", "type": "string", **({"default": ""} if default else {})}
    return {**doc, "fields": [*doc["fields"], field]}


def build(cli: Cli) -> tuple[str, str]:
    rel = json.loads(cli("build", "--json").stdout)["release"]
    return rel["id"], next(a["sha256"] for a in rel["artifacts"] if a["kind"] == KIND.value)


def to_prod(cli: Cli, rel: str) -> None:
    cli("deploy", rel, "--env", "dev")
    cli("promote", rel, "--to", "staging")
    cli("--as", "bob@northstar.test", "approve", rel, "--env", "prod")
    cli("--as", "carol@northstar.test", "promote", rel, "--to", "prod")


def registered(cli: Cli, env: str) -> dict[str, list[int]]:
    path = cli.state_dir / "envs" / env / "event-schemas" / "registry.json"
    if not path.exists():
        return {}
    doc = json.loads(path.read_text())
    return {s: [v["version"] for v in body["versions"]] for s, body in doc["subjects"].items()}


def live(cli: Cli, env: str) -> str | None:
    path = cli.state_dir / "envs" / env / "event-schemas" / "live.json"
    return json.loads(path.read_text())["sha256"] if path.exists() else None


# ----------------------------------------------------------------------------------- through the real CLI ----------
def test_v_minus_2_break_is_blocked_compatible_change_registers_rollback_restores(cli: Cli, repo: Path) -> None:
    rel1, d1 = build(cli)
    to_prod(cli, rel1)
    assert registered(cli, "prod") == {f"{t.name}-value": [1] for t in (repo / SCHEMAS).iterdir()}

    v1 = orders(repo)
    write_orders(repo, add_promo(v1, default=True), "orders events: promo_code, with a default")
    rel2, d2 = build(cli)
    to_prod(cli, rel2)
    assert registered(cli, "prod")[SUBJECT] == [1, 2] and live(cli, "prod") == d2
    prod_registry = (cli.state_dir / "envs/prod/event-schemas/registry.json").read_bytes()

    # v3 reads v2 data but not v1 data: blocked in dev already, nothing registered anywhere, prod untouched.
    write_orders(repo, add_promo(v1, default=False), "orders events: promo_code required")
    rel3, d3 = build(cli)
    res = cli("deploy", rel3, "--env", "dev", "--json", expect=1)
    reasons = " ".join(json.loads(res.stdout)["reasons"])
    assert "schema_compat" in reasons and SUBJECT in reasons and ORDERS in reasons
    assert "registered version 1 " in reasons and "registered version 2 " not in reasons
    assert "reader_field_missing_default_value" in reasons and "field 'promo_code'" in reasons
    assert "BACKWARD_TRANSITIVE" in reasons
    assert registered(cli, "dev")[SUBJECT] == [1, 2] and live(cli, "dev") == d2
    assert (cli.state_dir / "envs/prod/event-schemas/registry.json").read_bytes() == prod_registry
    assert live(cli, "prod") == d2 and d3 != d2

    # Rollback restores the previously registered set (version 2 deleted) and the previous digest.
    rb = json.loads(cli("rollback", "--env", "prod", "--reason", "drill", "--json").stdout)
    assert rb["status"] == "succeeded", rb
    assert registered(cli, "prod")[SUBJECT] == [1] and live(cli, "prod") == d1
    assert all(v == [1] for v in registered(cli, "prod").values())
    cli.audit_ok()


def test_per_subject_mode_from_the_catalog(cli: Cli, repo: Path) -> None:
    """The same v3 passes when the catalog sets the subject to BACKWARD (checked against the latest only)."""
    rel1, _ = build(cli)
    cli("deploy", rel1, "--env", "dev")
    v1 = orders(repo)
    write_orders(repo, add_promo(v1, default=True), "v2")
    cli("deploy", build(cli)[0], "--env", "dev")
    write_orders(repo, add_promo(v1, default=False), "v3")
    assert cli("deploy", build(cli)[0], "--env", "dev", expect=1).code == 1
    sources = repo / "pipelines/catalog/sources.yaml"
    text = sources.read_text()
    line = next(ln for ln in text.splitlines() if "topic: orders.order_events.v1," in ln)
    sources.write_text(text.replace(line, line.replace("topic: orders.order_events.v1,",
                                                       "topic: orders.order_events.v1, compatibility: BACKWARD,")))
    commit(repo, "orders events: BACKWARD only")
    cli("deploy", build(cli)[0], "--env", "dev")
    assert registered(cli, "dev")[SUBJECT] == [1, 2, 3]


def test_dropping_a_field_a_spark_job_reads_is_blocked_naming_the_job(cli: Cli, repo: Path) -> None:
    """BACKWARD_TRANSITIVE allows dropping ``channel``; the streaming job that reads it does not."""
    cli("deploy", build(cli)[0], "--env", "dev")
    write_orders(repo, drop_channel(orders(repo)), "orders events: drop channel")
    res = cli("deploy", build(cli)[0], "--env", "dev", "--json", expect=1)
    reasons = " ".join(json.loads(res.stdout)["reasons"])
    assert "breaks consumer Spark job 'stream_order_events' (pipeline stream_kafka__order_events)" in reasons
    assert "reads channel varchar, the schema has no such field" in reasons
    assert "registered version" not in reasons  # the Avro rules alone would have let it through
    assert registered(cli, "dev")[SUBJECT] == [1]


def test_malformed_avsc_fails_the_build_naming_the_file(cli: Cli, repo: Path) -> None:
    (repo / ORDERS).write_text('{"type": "record", "name": "OrderEvents", "fields": [')
    commit(repo, "broken JSON")
    res = cli("build", expect=2)
    assert ORDERS in res.stderr and "not valid JSON" in res.stderr
    (repo / ORDERS).write_text('{"type": "record", "name": "OrderEvents", "fields": [{"name": "x", "type": "strin"}]}')
    commit(repo, "not Avro")
    res = cli("build", expect=2)
    assert ORDERS in res.stderr and "not a valid Avro schema" in res.stderr and "strin" in res.stderr
    assert cli("show", "rel-" + gitutil.commit_info(repo).sha[:12], expect=None).code != 0  # no release was stored


# ----------------------------------------------------------------------------------- in process --------------------
def package(repo: Path, work: Path) -> bytes:
    work.mkdir()
    ctx = BuildContext(repo_root=repo, git_commit=gitutil.commit_info(repo).sha, release_id="rel-x", work_dir=work)
    (out,) = EventSchemasAdapter().package(ctx)
    return out.read_bytes()


def test_digest_depends_on_schema_content_only(repo: Path, tmp_path: Path) -> None:
    first = package(repo, tmp_path / "a")
    (repo / "airflow/dags/sales_daily.py").write_text("# a DAG-only change\n")
    commit(repo, "DAG only")
    doc = orders(repo)
    (repo / ORDERS).write_text(json.dumps(doc, indent=7))  # formatting only
    commit(repo, "reformat")
    assert package(repo, tmp_path / "b") == first
    write_orders(repo, drop_channel(doc), "content change")
    assert package(repo, tmp_path / "c") != first
    assert b"rel-x" not in first and gitutil.commit_info(repo).sha.encode() not in first


def test_verify_detects_a_lost_version_and_rollback_restores_the_set_by_content(repo: Path, tmp_path: Path) -> None:
    store = LocalArtifactStore(tmp_path / "artifacts")
    env = EnvContext(env="dev", env_dir=tmp_path / "envs" / "dev", artifact_path=lambda a: store.path_for(a.sha256),
                     runner=FakeRunner())
    adapter, v1, artifacts = EventSchemasAdapter(), orders(repo), []
    for i, doc in enumerate((v1, add_promo(v1, default=True))):
        if i:
            write_orders(repo, doc, "v2")
        (tmp_path / f"w{i}").mkdir()
        ctx = BuildContext(repo, gitutil.commit_info(repo).sha, "rel", tmp_path / f"w{i}")
        artifacts.append(store.put(adapter.package(ctx)[0], KIND, ARTIFACT_NAME))
        adapter.switch(SwitchRequest(artifact=artifacts[-1], env=env))
    registry = LocalSchemaRegistry(env.env_dir / "event-schemas" / "registry.json")
    assert [v.version for v in registry.versions(SUBJECT)] == [1, 2]
    assert adapter.verify(VerifyRequest(env=env)).outcome == GateOutcome.PASSED
    registry.delete([(SUBJECT, 1)])  # someone deletes version 1 behind the engine's back
    lost = adapter.verify(VerifyRequest(env=env))
    assert lost.outcome == GateOutcome.FAILED and SUBJECT in lost.summary and "is not registered" in lost.summary
    out = adapter.switch(SwitchRequest(artifact=artifacts[0], env=env, mode=SwitchMode.ROLLBACK))
    assert out.changed and f"{SUBJECT} v2" in out.evidence["deleted"] and out.evidence["reregistered"]
    (only,) = registry.versions(SUBJECT)
    assert only.version == 3 and json.loads(only.schema) == v1  # v1's content again, under a new version number
    assert adapter.current(env) == {ARTIFACT_NAME: artifacts[0].sha256}
    assert adapter.verify(VerifyRequest(env=env)).outcome == GateOutcome.PASSED


def test_retyping_a_consumed_field_names_the_consumer(repo: Path, tmp_path: Path) -> None:
    store = LocalArtifactStore(tmp_path / "artifacts")
    env = EnvContext(env="dev", env_dir=tmp_path / "envs" / "dev", artifact_path=lambda a: store.path_for(a.sha256),
                     runner=FakeRunner())
    doc = orders(repo)
    retyped = {**doc, "fields": [{**f, "type": "string"} if f["name"] == "store_id" else f for f in doc["fields"]]}
    write_orders(repo, retyped, "store_id as a string")
    (tmp_path / "w").mkdir()
    ctx = BuildContext(repo, gitutil.commit_info(repo).sha, "rel", tmp_path / "w")
    artifact = store.put(EventSchemasAdapter().package(ctx)[0], KIND, ARTIFACT_NAME)
    result = EventSchemasAdapter().check(CheckRequest(artifact=artifact, env=env))
    assert result.outcome == GateOutcome.FAILED
    assert "'stream_order_events'" in result.summary and "reads store_id int, the schema now has varchar" in result.summary


def test_a_consumer_reading_a_column_the_topic_lacks_is_blocked(repo: Path, tmp_path: Path) -> None:
    """The other direction: the job's input contract (sources.yaml columns) changes, the topic schema does not."""
    store = LocalArtifactStore(tmp_path / "artifacts")
    env = EnvContext(env="dev", env_dir=tmp_path / "envs" / "dev", artifact_path=lambda a: store.path_for(a.sha256),
                     runner=FakeRunner())
    sources = repo / "pipelines/catalog/sources.yaml"
    sources.write_text(sources.read_text().replace("currency_code: varchar, event_at: timestamp}}",
                                                   "currency_code: varchar, event_at: timestamp, loyalty_id: bigint}}", 1))
    commit(repo, "order events consumer reads loyalty_id")
    (tmp_path / "w").mkdir()
    ctx = BuildContext(repo, gitutil.commit_info(repo).sha, "rel", tmp_path / "w")
    artifact = store.put(EventSchemasAdapter().package(ctx)[0], KIND, ARTIFACT_NAME)
    result = EventSchemasAdapter().check(CheckRequest(artifact=artifact, env=env))
    assert result.outcome == GateOutcome.FAILED
    assert "'stream_order_events'" in result.summary and "reads loyalty_id bigint, the schema has no such field" in result.summary


def test_bad_mode_in_the_catalog_names_file_and_table(repo: Path, tmp_path: Path) -> None:
    sources = repo / "pipelines/catalog/sources.yaml"
    sources.write_text(sources.read_text().replace("topic: web.clickstream.v1,",
                                                   "topic: web.clickstream.v1, compatibility: SIDEWAYS,"))
    commit(repo, "bad mode")
    with pytest.raises(UsageError) as err:
        package(repo, tmp_path / "w")
    assert "sources.yaml" in err.value.message and "clickstream" in err.value.message and "SIDEWAYS" in err.value.message


def test_switch_refuses_incompatible_schema_even_without_the_gate(repo: Path, tmp_path: Path) -> None:
    """The registry side enforces the mode too: an env without schema_compat still registers nothing incompatible."""
    store = LocalArtifactStore(tmp_path / "artifacts")
    env_dir = tmp_path / "envs" / "dev"
    env = EnvContext(env="dev", env_dir=env_dir, artifact_path=lambda a: store.path_for(a.sha256), runner=FakeRunner())
    adapter = EventSchemasAdapter()
    v1 = orders(repo)
    artifacts = []
    for i, doc in enumerate((v1, add_promo(v1, default=True), add_promo(v1, default=False))):
        if i:
            write_orders(repo, doc, f"v{i + 1}")
        (tmp_path / f"w{i}").mkdir()
        ctx = BuildContext(repo, gitutil.commit_info(repo).sha, "rel", tmp_path / f"w{i}")
        artifacts.append(store.put(adapter.package(ctx)[0], KIND, ARTIFACT_NAME))
    adapter.switch(SwitchRequest(artifact=artifacts[0], env=env))
    adapter.switch(SwitchRequest(artifact=artifacts[1], env=env))
    registry = LocalSchemaRegistry(env_dir / "event-schemas" / "registry.json")
    before = registry.path.read_bytes()
    with pytest.raises(Blocked) as err:
        adapter.switch(SwitchRequest(artifact=artifacts[2], env=env))
    assert any("registered version 1 " in r and SUBJECT in r for r in err.value.reasons)
    assert registry.path.read_bytes() == before and adapter.current(env) == {ARTIFACT_NAME: artifacts[1].sha256}


@pytest.mark.parametrize(("mode", "ok"), [
    (compat.Mode.NONE, True), (compat.Mode.BACKWARD, True), (compat.Mode.BACKWARD_TRANSITIVE, False),
    (compat.Mode.FORWARD, True), (compat.Mode.FORWARD_TRANSITIVE, False), (compat.Mode.FULL, True),
    (compat.Mode.FULL_TRANSITIVE, False)])
def test_modes_follow_confluent_semantics(mode: compat.Mode, ok: bool) -> None:
    """v3 against [v1, v2]: v2 and v3 read each other's data (v2 ignores the extra field, v3 defaults it), but
    v1 and v3 disagree on ``channel``'s type in both directions: only the transitive modes see v1."""
    v1 = json.loads((REPO / ORDERS).read_text())
    texts = [json.dumps(d, sort_keys=True) for d in (v1, drop_channel(v1), channel_as_int(v1))]
    existing = [compat.Existing(f"version {i + 1}", t) for i, t in enumerate(texts[:2])]
    found = compat.check(texts[2], existing, mode)
    assert (found == []) is ok, [f.describe() for f in found]
    assert all(f.against == "version 1" for f in found)
