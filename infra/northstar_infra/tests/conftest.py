"""Offline Pulumi harness: run ``stack.build()`` against ``pulumi.runtime.set_mocks`` and capture resources.

Why: there is no Pulumi CLI or cloud access in CI; mocks let us check exactly what would be declared, using
the real stack config files (``infra/Pulumi.<stack>.yaml``) so a bad config edit fails here too.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pulumi
import pytest
import yaml

from northstar_infra import policies
from northstar_infra.check import _recording_mocks_class, _urns_of

INFRA_DIR = Path(__file__).resolve().parents[2]
STACKS = ("dev", "staging", "prod")


if TYPE_CHECKING:

    class RecordingMocks(pulumi.runtime.Mocks):  # the shape tests rely on; the real class lives in check.py
        resources: list[policies.Resource]

        def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict[str, Any]]: ...

        def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]] | None]: ...

else:
    # One recorder for the check entry point and the tests: what the tests assert is what `infra_check` sees.
    RecordingMocks = _recording_mocks_class()


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
        return pulumi.Output.all(*_urns_of(stack_module.build()))  # wait for every declared resource

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
