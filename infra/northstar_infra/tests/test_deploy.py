"""The ``aws`` backend's deploy path: the clear error without a Pulumi CLI, and the exact commands it would run.

Nothing here deploys anything: there is no Pulumi CLI on these machines. ``test_runs_config_then_up_in_order``
uses a recording stand-in executable only to check the order and arguments of the calls.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import stat
import subprocess
from pathlib import Path

import pytest

from northstar_infra import deploy
from northstar_infra.tests.conftest import INFRA_DIR

SHA_A, SHA_B, SHA_C = "a" * 64, "b" * 64, "c" * 64


def version_map(tmp_path: Path) -> Path:
    path = tmp_path / "infra-version-map.json"
    path.write_text(json.dumps({"release_id": "rel-0123456789ab", "git_commit": "0123456789ab" + "0" * 28,
                                "artifacts": {"airflow-dags": {"kind": "dag_bundle", "sha256": SHA_A},
                                              "spark.daily-revenue": {"kind": "spark_job", "sha256": SHA_B}}},
                               sort_keys=True))
    return path


def no_cli_env(tmp_path: Path) -> dict[str, str]:
    return {"PATH": str(tmp_path / "empty-bin"), "HOME": str(tmp_path / "home")}


def test_missing_cli_raises_the_documented_message(tmp_path: Path) -> None:
    with pytest.raises(deploy.PulumiCliNotFound) as excinfo:
        deploy.deploy("dev", version_map(tmp_path), INFRA_DIR, environ=no_cli_env(tmp_path))
    assert str(excinfo.value).startswith(
        "Pulumi CLI not found: the aws backend needs the pulumi CLI; "
        "the local backend writes stack config files instead")


def test_missing_cli_is_checked_before_anything_runs_even_for_dry_run(tmp_path: Path) -> None:
    calls: list[object] = []

    def must_not_run(*args: object, **kwargs: object) -> subprocess.CompletedProcess[str]:
        calls.append(args)
        raise AssertionError("nothing may run without a Pulumi CLI")

    with pytest.raises(deploy.PulumiCliNotFound):
        deploy.deploy("dev", version_map(tmp_path), INFRA_DIR, dry_run=True, environ=no_cli_env(tmp_path),
                      run=must_not_run)
    assert calls == []


def test_cli_entry_point_reports_missing_cli_as_json_exit_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in no_cli_env(tmp_path).items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("PULUMI_CLI", raising=False)
    monkeypatch.delenv("PULUMI_HOME", raising=False)
    out = io.StringIO()
    code = deploy.main(["--stack", "prod", "--version-map", str(version_map(tmp_path))], stdout=out)
    result = json.loads(out.getvalue())
    assert code == 2 and result["executed"] is False and result["ok"] is False
    assert result["error"].startswith("Pulumi CLI not found")


def test_config_values_keep_the_programs_flat_string_map(tmp_path: Path) -> None:
    raw = version_map(tmp_path).read_bytes()
    values = deploy.config_values(json.loads(raw), hashlib.sha256(raw).hexdigest())
    assert values == {"northstar:artifactVersions": {"airflow-dags": SHA_A, "spark.daily-revenue": SHA_B},
                      "northstar:releaseId": "rel-0123456789ab",
                      "northstar:versionMapSha256": hashlib.sha256(raw).hexdigest()}
    with pytest.raises(ValueError, match="no sha256"):
        deploy.config_values({"artifacts": {"x": {"kind": "dag_bundle"}}}, "0" * 64)


def test_config_commands_remove_stale_entries_and_quote_path_keys() -> None:
    values = {"northstar:artifactVersions": {"airflow-dags": SHA_A, "spark.daily-revenue": SHA_B},
              "northstar:releaseId": "rel-1", "northstar:versionMapSha256": SHA_C}
    current = {"northstar:artifactVersions": {"value": json.dumps({"dbt": "0.0.0", "airflow-dags": "x"}),
                                              "objectValue": {"dbt": "0.0.0", "airflow-dags": "x"}, "secret": False}}
    assert deploy.config_commands("prod", values, current, "/opt/pulumi") == [
        ["/opt/pulumi", "config", "rm", "--stack", "prod", "--path", 'northstar:artifactVersions["dbt"]'],
        ["/opt/pulumi", "config", "set", "--stack", "prod", "--path", 'northstar:artifactVersions["airflow-dags"]',
         SHA_A],
        ["/opt/pulumi", "config", "set", "--stack", "prod", "--path",
         'northstar:artifactVersions["spark.daily-revenue"]', SHA_B],
        ["/opt/pulumi", "config", "set", "--stack", "prod", "northstar:releaseId", "rel-1"],
        ["/opt/pulumi", "config", "set", "--stack", "prod", "northstar:versionMapSha256", SHA_C],
    ]
    assert deploy.up_command("prod", "/opt/pulumi") == ["/opt/pulumi", "up", "--stack", "prod", "--yes",
                                                         "--non-interactive"]


RECORDING_CLI = """#!/bin/sh
# Stand-in for the pulumi CLI: records its argv, answers `config --json` with the repo's placeholder map. Deploys nothing.
printf '%s\\n' "$*" >> "$RECORD"
if [ "$1" = config ] && [ "$4" = --json ]; then
  echo '{"northstar:artifactVersions": {"objectValue": {"dbt": "0.0.0"}, "secret": false}}'
fi
exit 0
"""


def test_runs_config_then_up_in_order(tmp_path: Path) -> None:
    cli = tmp_path / "bin" / "pulumi"
    cli.parent.mkdir()
    cli.write_text(RECORDING_CLI)
    cli.chmod(cli.stat().st_mode | stat.S_IXUSR)
    record = tmp_path / "calls.txt"
    env = {"PATH": f"{cli.parent}{os.pathsep}/usr/bin:/bin", "HOME": str(tmp_path), "RECORD": str(record)}
    report = deploy.deploy("staging", version_map(tmp_path), INFRA_DIR, environ=env)
    assert report.ok and report.exit_codes == [0] * 7  # config --json, rm 1, set 2 + 2, up
    calls = record.read_text().splitlines()
    assert calls[0] == "config --stack staging --json"
    assert calls[1] == 'config rm --stack staging --path northstar:artifactVersions["dbt"]'
    assert calls[-1] == "up --stack staging --yes --non-interactive"
    dry = deploy.deploy("staging", version_map(tmp_path), INFRA_DIR, environ=env, dry_run=True)
    assert dry.to_json()["executed"] is False and dry.commands[-1][1] == "up"
    assert len(record.read_text().splitlines()) == len(calls) + 1  # the dry run only read the config
