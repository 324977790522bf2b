"""environments.yaml validation: every error names the file, the key path and the rule."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from northstar_release.environments import load_environments
from northstar_release.errors import ConfigError
from northstar_release.model import PromotionMode
from northstar_release.tests.helpers import ENVIRONMENTS_YAML


def test_shipped_file_loads() -> None:
    envs = load_environments(ENVIRONMENTS_YAML)
    assert list(envs) == ["dev", "staging", "prod"]
    # The gate lists are configuration: read them from the file, then check the rules they must follow.
    raw = yaml.safe_load(ENVIRONMENTS_YAML.read_text())["environments"]
    for name, env in envs.items():
        assert env.gates == tuple(raw[name]["gates"])
        assert {"secret_scan", "dag_integrity", "warehouse_audit", "spark_consumers", "schema_compat"} <= set(env.gates)
    assert envs["staging"].gates == envs["dev"].gates
    # prod is the data-quality baseline: comparing it with itself would prove nothing
    assert "data_quality" in envs["dev"].gates and "data_quality" not in envs["prod"].gates
    # contracts are checked where a release is built into wap_<env> (dev, staging); prod gets the digests staging
    # checked, without another build per promotion (docs/release.md, "Contracts and cross-tool consumers")
    assert "contract" in envs["dev"].gates and "contract" not in envs["prod"].gates
    # the contract gate reuses the wap_<env> branch the data-quality gate wrote: it runs after it
    assert envs["dev"].gates.index("contract") > envs["dev"].gates.index("data_quality")
    assert envs["staging"].previous == "dev"
    prod = envs["prod"]
    assert prod.promotion == PromotionMode.APPROVAL and prod.approvers_required == 1
    assert prod.finance_approvers_required == 2 and prod.previous == "staging"
    assert prod.freeze_windows[0].start == "01:00" and prod.freeze_windows[0].reason == "nightly batch window"


def _errors(tmp_path: Path, text: str) -> list[str]:
    path = tmp_path / "environments.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_environments(path)
    assert all(r.startswith(str(path)) for r in info.value.reasons), info.value.reasons
    return info.value.reasons


@pytest.mark.parametrize("text, key, rule", [
    ("environments:\n  prod: {promotion: approval, approvers_required: -1}\n",
     "environments.prod.approvers_required", "greater than or equal to 0"),
    ("environments:\n  dev: {gates: [no_such_gate]}\n", "environments.dev.gates.0", "unknown gate 'no_such_gate'"),
    ("environments:\n  dev: {}\n  prod: {previous: stagin}\n", "environments.prod.previous",
     "unknown environment 'stagin'"),
    ("environments:\n  dev: {colour: blue}\n", "environments.dev.colour", "unknown key"),
    ("environments:\n  dev: {promotion: sometimes}\n", "environments.dev.promotion", "'automatic' or 'approval'"),
    ("environments:\n  prod: {freeze_windows: [{start: '25:00', end: '03:00'}]}\n",
     "environments.prod.freeze_windows.0.start", "should match pattern"),
    ("environments:\n  prod: {promotion: approval}\n", "environments.prod.approvers_required",
     "must be >= 1 when promotion is 'approval'"),
    ("environments:\n  dev: {backend: aws}\n", "environments.dev.backend", "unsupported backend"),
    ("environments:\n  dev: {}\n  prod: {previous: prod}\n", "environments.prod.previous", "its own previous"),
    ("envs: {}\n", "envs", "unknown top-level key"),
    ("environments: []\n", "environments", "non-empty mapping"),
    ("environments:\n  dev: {gates: [dag_integrity]\n", "(document) line", "malformed YAML"),
])
def test_each_error_names_file_key_and_rule(tmp_path: Path, text: str, key: str, rule: str) -> None:
    reasons = _errors(tmp_path, text)
    assert any(key in r and rule in r for r in reasons), reasons


def test_all_problems_reported_at_once(tmp_path: Path) -> None:
    reasons = _errors(tmp_path, "environments:\n  dev: {gates: [x]}\n  prod: {previous: nowhere, approvers_required: -2}\n")
    assert len(reasons) >= 2  # a record that fails field validation is not cross-checked


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_environments(tmp_path / "nope.yaml")
    assert "nope.yaml" in info.value.message and info.value.exit_code == 2
