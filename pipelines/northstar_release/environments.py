"""Load and validate pipelines/environments.yaml into ``model.Environment`` records.

Why strict validation with precise messages: the environment file *is* the control configuration (who must approve,
when deploys are frozen, which gates run). A typo must fail loudly, naming the file, the key path
(``environments.prod.approvers_required``) and the broken rule, instead of silently weakening a control.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from northstar_release import strict_yaml
from northstar_release.errors import ConfigError
from northstar_release.gates import GATES
from northstar_release.model import Environment, PromotionMode

TOP_LEVEL_KEYS = {"environments"}


def _loc(parts: tuple[Any, ...] | list[Any]) -> str:
    return ".".join(str(p) for p in parts)


def _fail(path: Path, problems: list[str]) -> ConfigError:
    return ConfigError(f"{path}: invalid environment configuration", [f"{path}: {p}" for p in problems])


def load_environments(path: Path, gate_names: set[str] | None = None) -> dict[str, Environment]:
    """Parse, validate and return envs keyed by name, ordered by ``order``. Raises ConfigError listing every problem.

    Parsing is strict (``strict_yaml``): duplicate keys, non-UTF-8 bytes and forbidden characters are refused with the
    file, the line and the rule, before anything else runs."""
    gate_names = set(GATES) if gate_names is None else gate_names
    data = strict_yaml.load_file(path, "environment configuration")
    return parse_environments(data, path, gate_names)


def parse_environments(data: Any, path: Path, gate_names: set[str]) -> dict[str, Environment]:
    """Validate already-parsed YAML data; separated from I/O so tests can feed dicts."""
    if not isinstance(data, Mapping):
        raise _fail(path, ["(document): must be a mapping with an `environments` key"])
    problems: list[str] = []
    for key in data:
        if key not in TOP_LEVEL_KEYS:
            problems.append(f"{key}: unknown top-level key (allowed: {', '.join(sorted(TOP_LEVEL_KEYS))})")
    envs_raw = data.get("environments")
    if not isinstance(envs_raw, Mapping) or not envs_raw:
        problems.append("environments: must be a non-empty mapping of environment name -> settings")
        raise _fail(path, problems)

    envs: dict[str, Environment] = {}
    for position, (name, raw) in enumerate(envs_raw.items(), start=1):
        key = f"environments.{name}"
        if not isinstance(name, str) or not name.isidentifier():
            problems.append(f"{key}: environment name must be an identifier-like string")
            continue
        if raw is None:
            raw = {}
        if not isinstance(raw, Mapping):
            problems.append(f"{key}: must be a mapping of settings")
            continue
        if "name" in raw:
            problems.append(f"{key}.name: not allowed; the environment's name is its key")
            continue
        values = {"order": position, **raw, "name": name}
        try:
            envs[name] = Environment.model_validate(values)
        except ValidationError as exc:
            for err in exc.errors():
                loc = _loc((key, *err["loc"]))
                rule = "unknown key" if err["type"] == "extra_forbidden" else err["msg"]
                problems.append(f"{loc}: {rule}")

    for name, env in envs.items():
        key = f"environments.{name}"
        for i, gate in enumerate(env.gates):
            if gate not in gate_names:
                problems.append(f"{key}.gates.{i}: unknown gate '{gate}' (registered: {', '.join(sorted(gate_names))})")
        if env.previous is not None:
            if env.previous not in envs_raw:
                problems.append(f"{key}.previous: names unknown environment '{env.previous}'")
            elif env.previous == name:
                problems.append(f"{key}.previous: an environment cannot be its own previous environment")
            elif env.previous in envs and envs[env.previous].order >= env.order:
                problems.append(f"{key}.previous: '{env.previous}' must come earlier in promotion order")
        if env.promotion == PromotionMode.APPROVAL and env.approvers_required < 1:
            problems.append(f"{key}.approvers_required: must be >= 1 when promotion is 'approval'")
        if env.finance_approvers_required and env.finance_approvers_required < env.approvers_required:
            problems.append(f"{key}.finance_approvers_required: must be >= approvers_required")
        if env.backend != "local":
            problems.append(f"{key}.backend: unsupported backend '{env.backend}' (supported: local)")
        for i, window in enumerate(env.freeze_windows):
            if window.start == window.end:
                problems.append(f"{key}.freeze_windows.{i}: start and end must differ")
    orders = [e.order for e in envs.values()]
    if len(set(orders)) != len(orders):
        problems.append("environments: every environment needs a distinct `order`")
    if problems:
        raise _fail(path, problems)
    return dict(sorted(envs.items(), key=lambda kv: kv[1].order))


def require_env(envs: Mapping[str, Environment], name: str) -> Environment:
    """Look up an env or raise a usage error listing the known ones (exit 2)."""
    from northstar_release.errors import UsageError

    if name not in envs:
        raise UsageError(f"unknown environment '{name}' (known: {', '.join(envs)})")
    return envs[name]
