"""The CLI package wires every command group into ``./release`` (a command module not added to ``main`` is dead)."""

from __future__ import annotations

from click.testing import CliRunner

from northstar_release.cli.main import main


def test_every_command_is_wired() -> None:
    assert set(main.commands) == {"plan", "build", "deploy", "promote", "approve", "rollback", "status", "history",
                                  "show", "kinds", "tables", "audit", "demo", "health", "hotfix", "cost"}
    result = CliRunner().invoke(main, ["demo", "--help"])
    assert result.exit_code == 0 and "--workdir" in result.output


def test_kinds_lists_the_registry_in_packaging_order() -> None:
    import json

    result = CliRunner().invoke(main, ["kinds", "--json"])
    assert result.exit_code == 0, result.output
    listed = json.loads(result.output)["kinds"]
    kinds = [k["kind"] for k in listed]
    assert kinds == ["spark_job", "warehouse_project", "dag_bundle", "event_schemas", "infra_version_map"]
    # Only the warehouse switch is worth starting warm (it imports SQLMesh); rollbacks verify Spark and infra bytes.
    assert {k["kind"]: k["warm_start"] for k in listed if k["warm_start"]} == {"warehouse_project": "plan"}
    assert {k["kind"] for k in listed if k["rollback_verify"] == "integrity"} == {"spark_job", "infra_version_map"}
