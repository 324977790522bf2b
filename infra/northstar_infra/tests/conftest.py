"""Offline Pulumi harness: run ``stack.build()`` against ``pulumi.runtime.set_mocks`` and capture resources.

Why: there is no Pulumi CLI or cloud access in CI; mocks let us check exactly what would be declared, using
the real stack config files (``infra/Pulumi.<stack>.yaml``) so a bad config edit fails here too.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pulumi
import pytest
import yaml

from northstar_infra import policies

INFRA_DIR = Path(__file__).resolve().parents[2]
STACKS = ("dev", "staging", "prod")


_SIG_KEY = "4dabf18193072939515e22adb298388d"  # pulumi.runtime.rpc._special_sig_key
_SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"  # pulumi.runtime.rpc._special_secret_sig


def unwrap_secrets(value: Any) -> Any:
    """Provider-secret inputs (e.g. SSM ``value``) reach mocks wrapped; policies want plain values."""
    if isinstance(value, dict):
        if value.get(_SIG_KEY) == _SECRET_SIG:
            return unwrap_secrets(value["value"])
        return {k: unwrap_secrets(v) for k, v in value.items()}
    if isinstance(value, list):
        return [unwrap_secrets(v) for v in value]
    return value


class RecordingMocks(pulumi.runtime.Mocks):
    """Records every resource registration; echoes inputs back as state, adding what AWS would compute."""

    def __init__(self) -> None:
        self.resources: list[policies.Resource] = []

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        state: dict[str, Any] = unwrap_secrets(dict(args.inputs))
        if args.typ == policies.BUCKET:
            state.setdefault("bucket", f"{args.name}-1a2b3c")
            resource_id = state["bucket"]
            state["arn"] = f"arn:aws:s3:::{resource_id}"
        else:
            resource_id = f"{args.name}-id"
            state.setdefault("arn", f"arn:aws:mock:us-east-1:123456789012:{args.name}")
        self.resources.append(policies.Resource(type=args.typ, name=args.name, props=state, id=resource_id))
        return resource_id, state

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        return {}, None


def load_stack_config(stack: str) -> dict[str, str]:
    """Pulumi passes config to programs as strings; structured values arrive JSON-encoded."""
    data = yaml.safe_load((INFRA_DIR / f"Pulumi.{stack}.yaml").read_text())
    return {
        key: value if isinstance(value, str) else json.dumps(value) for key, value in data["config"].items()
    }


def run_stack(stack: str, config: dict[str, str] | None = None) -> RecordingMocks:
    """Execute the program for ``stack`` under mocks and wait until every registration has completed."""
    from northstar_infra import stack as stack_module

    mocks = RecordingMocks()
    pulumi.runtime.set_mocks(mocks, project="northstar-platform", stack=stack, preview=False)
    pulumi.runtime.set_all_config(config if config is not None else load_stack_config(stack))

    @pulumi.runtime.test
    def _program() -> pulumi.Output[Any]:
        res = stack_module.build()
        return pulumi.Output.all(
            res.kms_key.urn,
            res.bucket.urn,
            res.versioning.urn,
            res.encryption.urn,
            res.public_access_block.urn,
            res.artifact_versions.urn,
        )

    _program()
    return mocks


@pytest.fixture(params=STACKS)
def stack_run(request: pytest.FixtureRequest) -> tuple[str, RecordingMocks]:
    """The program run once per real stack config file."""
    return request.param, run_stack(request.param)


@pytest.fixture
def stack_runner() -> Callable[..., RecordingMocks]:
    """For tests that need a custom config."""
    return run_stack
