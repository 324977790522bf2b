"""The ``northstar_infra.check`` entry point: real stack configs pass; non-compliant variants fail with exit 1."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from northstar_infra import check
from northstar_infra.tests.conftest import INFRA_DIR, STACKS


def run_check(*argv: str) -> tuple[int, dict[str, Any]]:
    out = io.StringIO()
    code = check.main(list(argv), stdout=out)
    lines = out.getvalue().strip().splitlines()
    assert len(lines) == 1, out.getvalue()
    return code, json.loads(lines[0])


def write_variant(tmp_path: Path, stack: str, **overrides: Any) -> Path:
    data = yaml.safe_load((INFRA_DIR / f"Pulumi.{stack}.yaml").read_text())
    data["config"].update(overrides)
    path = tmp_path / f"Pulumi.{stack}.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


@pytest.mark.parametrize("stack", STACKS)
def test_each_real_stack_passes(stack: str) -> None:
    code, result = run_check("--stack", stack, "--config", str(INFRA_DIR / f"Pulumi.{stack}.yaml"))
    assert code == 0 and result["ok"] is True and result["violations"] == []
    assert result["stack"] == stack and result["project"] == "northstar-platform"
    types = sorted(r["type"] for r in result["resources"])
    assert len(types) >= 6 and "aws:s3/bucket:Bucket" in types
    urns = {r["urn"] for r in result["resources"]}
    assert f"urn:pulumi:{stack}::northstar-platform::aws:s3/bucket:Bucket::northstar-artifacts-{stack}" in urns


def test_public_aes256_bucket_variant_is_refused() -> None:
    code, result = run_check("--stack", "dev", "--config", str(INFRA_DIR / "Pulumi.dev.yaml"),
                             "--program", "northstar_infra.tests.leaky_program:build")
    assert code == 1 and result["ok"] is False
    found = {(v["policy"], v["resource"].rsplit("::", 1)[-1]) for v in result["violations"]}
    assert found == {
        ("no-public-buckets", "leaky-dev"),  # public-read ACL, and no complete public access block
        ("no-public-buckets", "leaky-dev-pab"),
        ("encryption-kms", "leaky-dev-sse"),
        ("encryption-kms", "leaky-dev"),
    }
    assert all(v["resource"].startswith("urn:pulumi:dev::northstar-platform::") for v in result["violations"])


def test_unencrypted_bucket_variant_is_refused() -> None:
    code, result = run_check("--stack", "staging", "--config", str(INFRA_DIR / "Pulumi.staging.yaml"),
                             "--program", "northstar_infra.tests.leaky_program:build_unencrypted")
    assert code == 1
    assert [(v["policy"], v["message"]) for v in result["violations"]] == [
        ("encryption-kms", "bucket has no aws:kms encryption configuration")]


def test_config_the_program_rejects_is_a_violation(tmp_path: Path) -> None:
    code, result = run_check("--stack", "dev", "--config", str(write_variant(tmp_path, "dev",
                             **{"northstar:artifactVersions": {"dbt": 3}})))
    assert code == 1
    assert [v["policy"] for v in result["violations"]] == ["program-error"]
    assert "artifactVersions must be a map" in result["violations"][0]["message"]


def test_config_of_another_environment_is_a_violation(tmp_path: Path) -> None:
    code, result = run_check("--stack", "prod", "--config", str(INFRA_DIR / "Pulumi.dev.yaml"))
    assert code == 1
    assert result["violations"][0]["policy"] == "stack-environment"


def test_version_map_variant_in_config_passes(tmp_path: Path) -> None:
    versions = {"airflow-dags": "a" * 64, "warehouse": "b" * 64}
    config = write_variant(tmp_path, "prod", **{"northstar:artifactVersions": versions,
                                                 "northstar:releaseId": "rel-0123456789ab"})
    code, result = run_check("--stack", "prod", "--config", str(config))
    assert code == 0, result


@pytest.mark.parametrize("argv, message", [
    ((), "required: --stack"),
    (("--stack", "dev", "--config", "/nonexistent/Pulumi.dev.yaml"), "does not exist"),
    (("--stack", "dev", "--config", str(INFRA_DIR / "Pulumi.dev.yaml"), "--program", "nope"), "MODULE:FUNCTION"),
])
def test_usage_errors_exit_2(argv: tuple[str, ...], message: str) -> None:
    code, result = run_check(*argv)
    assert code == 2 and message in result["error"]


def test_malformed_yaml_exits_2(tmp_path: Path) -> None:
    bad = tmp_path / "Pulumi.dev.yaml"
    bad.write_text("config: [unclosed\n")
    code, result = run_check("--stack", "dev", "--config", str(bad))
    assert code == 2 and "not valid YAML" in result["error"]


def test_as_a_subprocess_stdout_is_exactly_one_json_object() -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    ok = subprocess.run([sys.executable, "-m", "northstar_infra.check", "--stack", "prod", "--config",
                         str(INFRA_DIR / "Pulumi.prod.yaml")], capture_output=True, text=True, env=env, timeout=120)
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["ok"] is True and len(ok.stdout.strip().splitlines()) == 1
    bad = subprocess.run([sys.executable, "-m", "northstar_infra.check", "--stack", "dev", "--config",
                          str(INFRA_DIR / "Pulumi.dev.yaml"), "--program", "northstar_infra.tests.leaky_program:build"],
                         capture_output=True, text=True, env=env, timeout=120)
    assert bad.returncode == 1, bad.stderr
    assert len(json.loads(bad.stdout)["violations"]) == 5
